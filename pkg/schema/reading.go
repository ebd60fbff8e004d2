package schema

// Reading is one measurement of one sensor (cargo) on one device (ship).
//
// Time is kept as milliseconds since the Unix epoch in UTC: that is the
// precision Harbor stores, and an int64 is cheaper to carry than a time.Time
// on the hot path from the HTTP body to the ClickHouse column.
type Reading struct {
	Time    int64 // milliseconds since 1970-01-01T00:00:00Z
	ShipID  string
	CargoID string
	Value   float64
}
