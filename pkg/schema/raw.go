package schema

// Kind is the type of a raw value as a body format found it.
type Kind byte

// The kinds of raw values.
const (
	Absent     Kind = 0   // the field was not given
	String     Kind = 's' // Text is the string, unescaped
	Number     Kind = 'n' // Text is the number in JSON's grammar
	Bool       Kind = 'b' // Text is "true" or "false"
	Null       Kind = 'l'
	Other      Kind = 'o' // an object, an array, or a type the format has no reading for
	UnixMillis Kind = 'm' // a time the format gave as a number: Millis
)

// Field is one value of a reading before validation, as a format (JSON,
// line protocol, CSV...) found it: the validator applies the same rules,
// and gives the same error bodies, whatever the format.
type Field struct {
	Kind   Kind
	Text   []byte
	Millis int64 // for UnixMillis
}

// FlatField is a field of a flat reading: a reading of the cargo Key names.
type FlatField struct {
	Key   []byte
	Value Field
}

// Raw is one object of a body before validation: a reading (time, ship_id,
// cargo_id, value), a flat reading (time, ship_id and Flat: one reading per
// field), or both.
type Raw struct {
	Time, ShipID, CargoID, Value Field
	Flat                         []FlatField
}

// readable reports whether a flat field is a reading: a number, a boolean,
// or a string that holds a number. Text, null, objects and arrays are not.
func (f *FlatField) readable() bool {
	switch f.Value.Kind {
	case Number, Bool:
		return true
	case String:
		return IsNumber(f.Value.Text)
	}
	return false
}
