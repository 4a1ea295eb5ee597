package linodetest

import (
	"encoding/base64"
	"fmt"
	"net/http"
)

// The LKE control plane: ACL, kubeconfig, API endpoints, dashboard,
// recycling, regeneration and the service token.

type aclAddressesReq struct {
	IPv4 *[]string `json:"ipv4"`
	IPv6 *[]string `json:"ipv6"`
}

type aclReq struct {
	Enabled    *bool            `json:"enabled"`
	Addresses  *aclAddressesReq `json:"addresses"`
	RevisionID string           `json:"revision-id"`
}

// applyControlPlane sets the control-plane fields a create or an update
// names; nil names none.
func (s *Server) applyControlPlane(c *Cluster, cp *controlPlaneReq) {
	if cp == nil {
		return
	}
	if cp.HighAvailability != nil {
		c.HighAvailability = *cp.HighAvailability
	}
	if cp.AuditLogsEnabled != nil {
		c.AuditLogsEnabled = *cp.AuditLogsEnabled
	}
	if cp.ACL != nil {
		s.applyACL(c, cp.ACL)
	}
}

func validateACL(prefix string, a *aclReq) []apiError {
	var errs []apiError
	if a.Addresses == nil {
		return nil
	}
	check := func(field string, list *[]string, v6 bool) {
		if list == nil {
			return
		}
		for i, addr := range *list {
			if !validIPOrCIDR(addr, v6) {
				errs = append(errs, fieldErr(fmt.Sprintf("%s.addresses.%s[%d]", prefix, field, i), fmt.Sprintf("%q is not a valid address", addr)))
			}
		}
	}
	check("ipv4", a.Addresses.IPv4, false)
	check("ipv6", a.Addresses.IPv6, true)
	return errs
}

func (s *Server) applyACL(c *Cluster, a *aclReq) {
	enabled := true
	if a.Enabled != nil {
		enabled = *a.Enabled
	}
	c.ACL.Enabled = enabled
	if a.Addresses != nil {
		if a.Addresses.IPv4 != nil {
			c.ACL.IPv4 = aclCIDRs(*a.Addresses.IPv4)
		}
		if a.Addresses.IPv6 != nil {
			c.ACL.IPv6 = aclCIDRs(*a.Addresses.IPv6)
		}
	}
	c.ACL.RevisionID = a.RevisionID
	if c.ACL.RevisionID == "" {
		c.ACL.RevisionID = s.hex(12)
	}
}

type kubeconfigJSON struct {
	Kubeconfig string `json:"kubeconfig"`
}

func getKubeconfig(s *Server, rc *reqCtx, c *Cluster) response {
	if rc.now.Before(c.ReadyAt) || rc.now.Before(c.KubeconfigReadyAt) {
		resp := errResponse(http.StatusServiceUnavailable, apiError{Reason: kubeconfigReason})
		if c.Tier == "enterprise" {
			resp.header = map[string]string{"Retry-After": enterpriseRetry}
		}
		return resp
	}
	var raw []byte
	if src := s.cfg.kubeconfig; src != nil {
		b, err := src(c.ID)
		if err != nil {
			return errResponse(http.StatusInternalServerError, apiError{Reason: "kubeconfig source: " + err.Error()})
		}
		raw = b
	} else {
		b, err := generatedKubeconfig(c)
		if err != nil {
			return errResponse(http.StatusInternalServerError, apiError{Reason: err.Error()})
		}
		raw = b
	}
	return ok(kubeconfigJSON{Kubeconfig: base64.StdEncoding.EncodeToString(raw)})
}

func (s *Server) regenerateKubeconfig(c *Cluster, rc *reqCtx) {
	c.token = s.hex(64)
	c.KubeconfigReadyAt = rc.now.Add(kubeconfigRegen)
}

func deleteKubeconfig(s *Server, rc *reqCtx, c *Cluster) response {
	s.regenerateKubeconfig(c, rc)
	s.state.addEvent(rc.now, "lke_kubeconfig_regenerate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

type endpointJSON struct {
	Endpoint string `json:"endpoint"`
}

func listAPIEndpoints(s *Server, rc *reqCtx, c *Cluster) response {
	host := apiHost(c)
	ip := fmt.Sprintf("192.0.2.%d", c.ID%250+1)
	return listOf([]any{
		endpointJSON{"https://" + host + ":443"},
		endpointJSON{"https://" + host + ":6443"},
		endpointJSON{"https://" + ip + ":443"},
		endpointJSON{"https://" + ip + ":6443"},
	})
}

type aclAddressesJSON struct {
	IPv4 []string `json:"ipv4"`
	IPv6 []string `json:"ipv6"`
}

type aclJSON struct {
	Enabled   bool             `json:"enabled"`
	Addresses aclAddressesJSON `json:"addresses"`
	// RevisionID is absent once the ACL was deleted.
	RevisionID string `json:"revision-id,omitempty"`
}

type aclEnvelope struct {
	ACL aclJSON `json:"acl"`
}

func renderACL(c *Cluster) aclEnvelope {
	return aclEnvelope{ACL: aclJSON{
		Enabled:    c.ACL.Enabled,
		Addresses:  aclAddressesJSON{IPv4: nonNil(c.ACL.IPv4), IPv6: nonNil(c.ACL.IPv6)},
		RevisionID: c.ACL.RevisionID,
	}}
}

func getACL(s *Server, rc *reqCtx, c *Cluster) response { return ok(renderACL(c)) }

func updateACL(s *Server, rc *reqCtx, c *Cluster) response {
	var req struct {
		ACL *aclReq `json:"acl"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.ACL == nil {
		return badRequest(fieldErr("acl", "acl is required"))
	}
	if errs := validateACL("acl", req.ACL); len(errs) > 0 {
		return badRequest(errs...)
	}
	s.applyACL(c, req.ACL)
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_control_plane_acl_update", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return okMutated(renderACL(c))
}

func deleteACL(s *Server, rc *reqCtx, c *Cluster) response {
	// A deleted ACL reads back disabled, empty and without a revision-id.
	c.ACL = ControlPlaneACL{IPv4: []string{}, IPv6: []string{}}
	c.Updated = rc.now
	s.state.addEvent(rc.now, "lke_control_plane_acl_delete", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}

func getDashboard(s *Server, rc *reqCtx, c *Cluster) response {
	return ok(map[string]string{"url": fmt.Sprintf("https://%d-%s.dashboard.%s.linodelke.net", c.ID, c.EndpointHex, c.Region)})
}

func recycleCluster(s *Server, rc *reqCtx, c *Cluster) response {
	s.state.addEvent(rc.now, "lke_cluster_recycle", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	s.queueRecycle(c, allNodes(c), rc.now)
	return okMutated(emptyObject())
}

func regenerateCluster(s *Server, rc *reqCtx, c *Cluster) response {
	var req struct {
		Kubeconfig   bool `json:"kubeconfig"`
		ServiceToken bool `json:"servicetoken"`
	}
	if bad, ok := rc.decode(&req); !ok {
		return bad
	}
	if req.Kubeconfig {
		s.regenerateKubeconfig(c, rc)
	}
	s.state.addEvent(rc.now, "lke_cluster_regenerate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return okMutated(emptyObject())
}

func deleteServiceToken(s *Server, rc *reqCtx, c *Cluster) response {
	s.state.addEvent(rc.now, "lke_token_rotate", "lkecluster", c.ID, c.Label, clusterURL(c.ID), "")
	return deleted()
}
