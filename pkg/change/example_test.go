package change_test

import (
	"encoding/json"
	"fmt"
	"log"

	"github.com/org/platform/pkg/change"
)

// A Result is what a reviewer reads: one line per change, sorted, and a
// sensitive value never printed — in String or in JSON.
func ExampleResult() {
	r := change.Result{Changes: []change.Change{
		{Layer: change.LayerLinode, Object: "lke/platform-production/pool/general", Field: "count", From: "3", To: "5", Op: change.Update},
		{Layer: change.LayerLinode, Object: "firewall/platform-production", Op: change.Create},
		{Layer: change.LayerKubernetes, Object: "secret/payments/db", Field: "password", From: "hunter2", To: "correct-horse", Op: change.Update, Sensitive: true},
		{Layer: change.LayerLinode, Object: "vpc/platform-production", Op: change.Unchanged},
	}}
	fmt.Println(r.String())
	fmt.Println(r.Summary())

	b, err := json.Marshal(r.Changes[2])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// create firewall/platform-production
	// update lke/platform-production/pool/general count: 3 → 5
	// update secret/payments/db password: (sensitive) → (sensitive)
	// 1 to create, 2 to update, 0 to delete
	// {"layer":"kubernetes","object":"secret/payments/db","field":"password","from":"(sensitive)","to":"(sensitive)","op":"update","sensitive":true}
}

// Steps are data: a plan can be written as JSON, read back and applied
// later. A value only an earlier step produces is a reference, shown as
// "(known after apply)" until it runs.
func ExampleNewStep() {
	firewall := change.After("production/linode/firewall/platform-production", "id")
	fmt.Println(firewall)

	s, err := change.NewStep("production/linode/firewall/platform-production", change.LayerLinode,
		"firewall.create", change.Create, "firewall/platform-production",
		map[string]string{"label": "platform-production"},
		change.Change{Layer: change.LayerLinode, Object: "firewall/platform-production", Op: change.Create})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Kind, s.Op, s.Object, string(s.Action))
	// Output:
	// (known after apply)
	// firewall.create create firewall/platform-production {"label":"platform-production"}
}
