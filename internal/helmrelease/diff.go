package helmrelease

// managed returns the fields of live that desired sets — maps key by key,
// anything else whole — without the bookkeeping the server moves on its
// own: what the release manages of the live object, for a plan's base.
func managed(live, desired map[string]any) map[string]any {
	out := map[string]any{}
	for k, dv := range desired {
		lv, ok := live[k]
		if !ok {
			continue
		}
		dm, dIsMap := dv.(map[string]any)
		lm, lIsMap := lv.(map[string]any)
		if dIsMap && lIsMap {
			out[k] = managed(lm, dm)
			continue
		}
		out[k] = lv
	}
	return out
}
