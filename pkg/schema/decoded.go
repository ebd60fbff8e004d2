package schema

// Policy is what a body with invalid readings in it does.
type Policy uint8

const (
	// Whole refuses the whole body when any reading in it is invalid:
	// nothing of it is stored. The default.
	Whole Policy = iota
	// Partial keeps the valid readings and reports the others as skipped.
	Partial
)

// Options are the rules a body is decoded by: a harbor's.
type Options struct {
	Limits Limits
	// MaxLen is the most readings a body may hold; 0 means no limit.
	MaxLen int
	Policy Policy
}

// Decoded is what a body holds.
type Decoded struct {
	Readings []Reading
	// Skipped, under the Partial policy, says which readings were left out
	// and why; nil when none was.
	Skipped *InvalidError
}
