package linodetest

func objectStorageRoutes() []*route { return nil }
