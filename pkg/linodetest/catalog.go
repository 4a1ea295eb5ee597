package linodetest

import "time"

// timeFormat is how the API writes timestamps: UTC, without a zone.
const timeFormat = "2006-01-02T15:04:05"

// apiTime marshals as the API's zone-less UTC timestamp.
type apiTime time.Time

// MarshalJSON writes the zone-less UTC form.
func (t apiTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(timeFormat) + `"`), nil
}
