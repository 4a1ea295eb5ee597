package cluster

import (
	"github.com/org/platform/pkg/change"
	"slices"
	"testing"
	"time"

	"github.com/linode/linodego"
)

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.33", "1.33", 0},
		{"1.33", "1.34", -1},
		{"1.34", "1.33", 1},
		{"1.9", "1.10", -1}, // numerically, not as text
		{"1.33", "1.33.1", -1},
		{"2.0", "1.99", 1},
		{"v1.33.4+lke1", "v1.33.4+lke1", 0},
		{"v1.32.8+lke2", "v1.33.4+lke1", -1},
		{"v1.33.4+lke1", "v1.33.4+lke2", -1}, // a newer LKE build of one release
		{"v1.33.10+lke1", "v1.33.9+lke3", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"203.0.113.7", "203.0.113.7/32", true},
		{"203.0.113.7/24", "203.0.113.0/24", true},
		{"2001:db8::1", "2001:db8::1/128", true},
		{"2001:db8::/32", "2001:db8::/32", true},
		{"example.com", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, err := parsePrefix(tt.in)
		if (err == nil) != tt.ok || (tt.ok && p.String() != tt.want) {
			t.Errorf("parsePrefix(%q) = %v, %v; want %q, ok %v", tt.in, p, err, tt.want, tt.ok)
		}
	}
}

func TestCanonicalForms(t *testing.T) {
	t.Parallel()
	got, err := canonicalCIDRs([]string{"10.0.0.9/8", "192.0.2.1", "10.0.0.0/8"})
	if want := []string{"10.0.0.0/8", "192.0.2.1/32"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("canonicalCIDRs = %v, %v; want %v", got, err, want)
	}
	if got := canonicalOrRaw([]string{"junk", "192.0.2.1"}); !slices.Equal(got, []string{"192.0.2.1/32", "junk"}) {
		t.Errorf("canonicalOrRaw = %v", got)
	}
	if got := tagSet([]string{"b", "a", "b", UpgradeTag}, UpgradeTag); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("tagSet = %v", got)
	}
	ts := []linodego.LKENodePoolTaint{
		{Key: "b", Effect: "NoSchedule"}, {Key: "a", Value: "2", Effect: "NoSchedule"},
		{Key: "a", Value: "1", Effect: "NoSchedule"}, {Key: "a", Effect: "NoExecute"},
	}
	sortTaints(ts)
	if got := describeTaints(ts); got != "a=:NoExecute, a=1:NoSchedule, a=2:NoSchedule, b=:NoSchedule" {
		t.Errorf("sortTaints order: %s", got)
	}
	if name, ok := poolName([]string{"x", PoolTagPrefix + "general"}); !ok || name != "general" {
		t.Errorf("poolName = %q, %v", name, ok)
	}
	if _, ok := poolName([]string{PoolTagPrefix}); ok {
		t.Error("an empty pool name counts as ours")
	}
}

func TestBestPool(t *testing.T) {
	t.Parallel()
	ready := linodego.LKENodePoolLinode{Status: linodego.LKELinodeReady}
	notReady := linodego.LKENodePoolLinode{Status: linodego.LKELinodeNotReady}
	pools := []linodego.LKENodePool{
		{ID: 3, Linodes: []linodego.LKENodePoolLinode{ready, ready}},
		{ID: 2, Linodes: []linodego.LKENodePoolLinode{ready, notReady}},
		{ID: 4, Linodes: []linodego.LKENodePoolLinode{ready, ready}},
	}
	if got := bestPool(pools).ID; got != 3 {
		t.Errorf("bestPool kept %d, want 3 (most ready, then oldest)", got)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	bad := []Option{
		WithLogger(nil), WithClock(nil), WithPollInterval(-1), WithMaxPollInterval(0),
		WithTemporaryACLAddress("nope"), WithNodeVersionChecker(nil), WithMaxRounds(0),
	}
	for i, o := range bad {
		if _, err := newOptions([]Option{o}); err == nil {
			t.Errorf("option %d accepted a bad argument", i)
		}
	}
	for _, p := range []Placement{
		{FirewallID: change.Known(-1)},
		{VPCID: change.Known(3)},
		{SubnetID: change.After("vpc", "subnet/nodes")},
	} {
		if err := p.check(); err == nil {
			t.Errorf("placement %+v accepted", p)
		}
	}
	o, err := newOptions([]Option{WithPollInterval(time.Minute), WithMaxPollInterval(time.Second)})
	if err != nil || o.maxPollInterval != time.Minute {
		t.Errorf("a maximum below the interval: %v, %s; want the interval", err, o.maxPollInterval)
	}
}
