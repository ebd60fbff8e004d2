package schema

// Columns holds readings column by column, the shape a ClickHouse batch
// insert takes. Reset keeps the allocated memory for the next batch.
type Columns struct {
	HarborID []string
	ShipID   []string
	CargoID  []string
	Time     []int64 // Unix milliseconds
	Value    []float64

	ids map[string]string // interned ship and cargo ids of the batch, checked already
}

// Len is the number of rows.
func (c *Columns) Len() int { return len(c.Time) }

// Reset empties the columns, keeping their capacity.
func (c *Columns) Reset() {
	c.truncate(0)
	clear(c.ids)
}

// AppendPayload decodes a payload of the given harbor onto the columns,
// checking every reading against b (see Limits.Published): the stream is
// trusted with nothing the API would have refused. A payload that does not
// decode is ErrBadPayload, one with a reading out of bounds
// ErrRefusedReading. On error the columns are left as they were, so one bad
// message cannot leave half of itself in a batch.
func (c *Columns) AppendPayload(harborID string, payload []byte, b Bounds) error {
	n := c.Len()
	if c.ids == nil {
		c.ids = make(map[string]string)
	}
	pr := payloadReader{intern: c.ids, bounds: b}
	pr.init(payload)
	for pr.Next() {
		r := pr.Reading()
		c.HarborID = append(c.HarborID, harborID)
		c.ShipID = append(c.ShipID, r.ShipID)
		c.CargoID = append(c.CargoID, r.CargoID)
		c.Time = append(c.Time, r.Time)
		c.Value = append(c.Value, r.Value)
	}
	if err := pr.Err(); err != nil {
		c.truncate(n)
		return err
	}
	return nil
}

func (c *Columns) truncate(n int) {
	c.HarborID = c.HarborID[:n]
	c.ShipID = c.ShipID[:n]
	c.CargoID = c.CargoID[:n]
	c.Time = c.Time[:n]
	c.Value = c.Value[:n]
}
