package linodetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// apiHost is the fake API server host of a cluster.
func apiHost(c *Cluster) string {
	return fmt.Sprintf("%d-%s.%s.linodelke.net", c.ID, c.EndpointHex, c.Region)
}

// clusterCA returns the cluster's CA certificate in PEM: a real,
// self-signed ECDSA P-256 certificate made on first use and kept for the
// life of the cluster, so that every client that parses a kubeconfig
// (client-go, the Terraform provider's readiness check) loads it. Its key
// is thrown away: nothing serves TLS with it.
func clusterCA(c *Cluster) ([]byte, error) {
	if c.caPEM != nil {
		return c.caPEM, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key of LKE cluster %d: %w", c.ID, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(int64(c.ID)),
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             c.Created.Add(-time.Hour),
		NotAfter:              c.Created.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate of LKE cluster %d: %w", c.ID, err)
	}
	c.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return c.caPEM, nil
}

// generatedKubeconfig is the default kubeconfig of a cluster: valid YAML in
// the shape LKE produces, naming a fake endpoint, the cluster's own CA and
// its token.
func generatedKubeconfig(c *Cluster) ([]byte, error) {
	ca, err := clusterCA(c)
	if err != nil {
		return nil, err
	}
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
`, base64.StdEncoding.EncodeToString(ca), apiHost(c), name, name, c.token, name, name, name, name), nil
}
