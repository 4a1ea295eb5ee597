package linodetest

import "time"

func firewallRoutes() []*route { return nil }

func (s *Server) pruneDevices(now time.Time) {}
