package linodetest

import (
	"encoding/base64"
	"fmt"
)

// fakeCA is a syntactically valid PEM block standing in for the cluster CA.
// It is not a certificate anyone can use.
const fakeCA = "-----BEGIN CERTIFICATE-----\n" +
	"TElOT0RFVEVTVCBGQUtFIENBIC0gTk9UIEEgUkVBTCBDRVJUSUZJQ0FURQo=\n" +
	"-----END CERTIFICATE-----\n"

// apiHost is the fake API server host of a cluster.
func apiHost(c *Cluster) string {
	return fmt.Sprintf("%d-%s.%s.linodelke.net", c.ID, c.EndpointHex, c.Region)
}

// generatedKubeconfig is the default kubeconfig of a cluster: valid YAML in
// the shape LKE produces, naming a fake endpoint and the cluster's token.
func generatedKubeconfig(c *Cluster) []byte {
	name := fmt.Sprintf("lke%d", c.ID)
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
preferences: {}
clusters:
- cluster:
    certificate-authority-data: %s
    server: https://%s:443
  name: %s
users:
- name: %s-admin
  user:
    as-user-extra: {}
    token: %s
contexts:
- context:
    cluster: %s
    namespace: default
    user: %s-admin
  name: %s-ctx
current-context: %s-ctx
`, base64.StdEncoding.EncodeToString([]byte(fakeCA)), apiHost(c), name, name, c.token, name, name, name, name)
}
