package linodetest

func miscRoutes() []*route { return nil }
