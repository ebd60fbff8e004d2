package reader

import "time"

// TimeLayout is how times are written in answers: RFC 3339 in UTC with
// milliseconds, the precision Harbor stores.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time is a time in Unix milliseconds that encodes in JSON in TimeLayout.
type Time int64

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.UnixMilli(int64(t)).UTC().Format(TimeLayout) + `"`), nil
}

// Ship is a ship of a harbor with its cargos; LastSeen is its newest
// reading's time.
type Ship struct {
	ShipID   string  `json:"ship_id"`
	LastSeen Time    `json:"last_seen"`
	Cargos   []Cargo `json:"cargos"`
}

// Cargo is a cargo of a ship and its newest reading's time.
type Cargo struct {
	CargoID  string `json:"cargo_id"`
	LastSeen Time   `json:"last_seen"`
}

// Point is a reading, or the aggregate of the readings of a step that
// starts at Time.
type Point struct {
	Time  Time    `json:"time"`
	Value float64 `json:"value"`
}

// CargoValue is the newest reading of a cargo.
type CargoValue struct {
	CargoID string  `json:"cargo_id"`
	Time    Time    `json:"time"`
	Value   float64 `json:"value"`
}
