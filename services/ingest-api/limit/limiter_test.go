package limit

import (
	"testing"
	"time"
)

func TestLimiterReadingsAndRequests(t *testing.T) {
	l := New(time.Second, func() int { return 1 })
	r := Rates{ReadingsPerSecond: 100, RequestsPerSecond: 1000}
	if d := l.Allow("h", r, 60); !d.Allowed || d.Limit != 100 || d.Remaining != 40 {
		t.Fatalf("first 60 readings: %+v", d)
	}
	d := l.Allow("h", r, 60)
	if d.Allowed || d.RetryAfter <= 0 || d.Remaining != 40 {
		t.Fatalf("60 more in the same second: %+v", d)
	}
	// The refused request took nothing: 40 still fit.
	if d := l.Allow("h", r, 40); !d.Allowed {
		t.Fatalf("40 after a refusal: %+v", d)
	}
	// Other harbors have their own buckets; no limit means no refusal.
	if d := l.Allow("other", r, 100); !d.Allowed {
		t.Fatalf("another harbor: %+v", d)
	}
	if d := l.Allow("free", Rates{}, 1_000_000); !d.Allowed || d.Limit != 0 {
		t.Fatalf("unlimited harbor: %+v", d)
	}
}

func TestLimiterRequestsPerSecond(t *testing.T) {
	l := New(time.Second, func() int { return 1 })
	r := Rates{RequestsPerSecond: 3}
	for i := range 3 {
		if d := l.Allow("h", r, 1000); !d.Allowed {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	if d := l.Allow("h", r, 1); d.Allowed || d.Limit != 3 {
		t.Fatalf("fourth request: %+v", d)
	}
}

func TestLimiterSharesTheRateAmongReplicas(t *testing.T) {
	replicas := 1
	l := New(time.Second, func() int { return replicas })
	r := Rates{ReadingsPerSecond: 100}
	replicas = 4 // this replica's share: 25 per second
	if d := l.Allow("h", r, 25); !d.Allowed {
		t.Fatalf("25 of a quarter share: %+v", d)
	}
	if d := l.Allow("h", r, 1); d.Allowed {
		t.Fatalf("the 26th reading of a quarter share: %+v", d)
	}
	if d := l.Allow("big", r, 26); d.Allowed {
		t.Fatalf("a batch larger than the share's burst: %+v", d)
	}
}

func TestLimiterAdmitTakesNothing(t *testing.T) {
	l := New(time.Second, func() int { return 1 })
	r := Rates{ReadingsPerSecond: 10, RequestsPerSecond: 2}
	for range 5 {
		if d := l.Admit("h", r); !d.Allowed || d.Remaining != 10 {
			t.Fatalf("admit on full buckets: %+v", d)
		}
	}
	if d := l.Allow("h", r, 10); !d.Allowed {
		t.Fatalf("all readings: %+v", d)
	}
	// No reading left: refused before the body, with when one will fit.
	if d := l.Admit("h", r); d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
		t.Fatalf("admit on an empty readings bucket: %+v", d)
	}
	if d := l.Admit("free", Rates{}); !d.Allowed {
		t.Fatalf("unlimited harbor: %+v", d)
	}
	l2 := New(time.Second, func() int { return 1 })
	r2 := Rates{RequestsPerSecond: 1}
	l2.Allow("h", r2, 1)
	if d := l2.Admit("h", r2); d.Allowed || d.Limit != 1 {
		t.Fatalf("admit without a request left: %+v", d)
	}
}
