package schema

import (
	"reflect"
	"strings"
	"testing"
)

func TestCompareColumns(t *testing.T) {
	for _, major := range []int{18, 24} {
		tb, _ := NewTable("harbor", "readings", major, 8)
		actual := map[string]string{"extra": "UInt8"} // another column does not matter
		for _, c := range tb.TableColumns() {
			actual[c.Name] = c.Type
			if !strings.Contains(tb.InsertSQL(), c.Name) || !strings.Contains(tb.CreateTableSQL(), c.Name+" ") {
				t.Errorf("%d: column %s is not in the DDL or the INSERT", major, c.Name)
			}
		}
		if p := tb.CompareColumns(actual); p != nil {
			t.Errorf("%d: the table's own columns differ: %v", major, p)
		}
		actual["value"] = "String"
		delete(actual, "ship_id")
		want := []string{"column ship_id is missing, want String", "column value is String, want Float64"}
		if p := tb.CompareColumns(actual); !reflect.DeepEqual(p, want) {
			t.Errorf("%d: %q, want %q", major, p, want)
		}
	}
}
