package stream

import (
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestRolesKeepTheirBounds guards the permission sets as they grow: only
// the admin writes the tenants bucket, only the operator updates a stream
// or bucket (an update can republish into any subject), every role replies
// on its own inbox only, and no role is given everything.
func TestRolesKeepTheirBounds(t *testing.T) {
	cfg := devtest.ParseEnv[Config](t, map[string]string{})
	b := Buckets{Tenants: "harbor_tenants", Replicas: "harbor_replicas", Writers: "harbor_writers"}
	roles := Roles(cfg, b)
	if len(roles) != 4 {
		t.Fatalf("%d roles, want api, writer, admin and operator", len(roles))
	}
	for _, r := range roles {
		for _, s := range r.Publish() {
			if s == ">" || s == "$JS.API.>" || s == "$KV.>" {
				t.Errorf("%s may publish to %s", r.User, s)
			}
			if strings.HasPrefix(s, "$KV."+b.Tenants+".") && r.User != RoleAdmin {
				t.Errorf("%s may write the tenants bucket (%s)", r.User, s)
			}
			if strings.Contains(s, ".STREAM.UPDATE.") && r.User != RoleOperator && s != jsAPI("STREAM", "UPDATE", kvStream(b.Tenants)) {
				t.Errorf("%s may update a stream (%s)", r.User, s)
			}
			if strings.Contains(s, ".STREAM.DELETE.") {
				t.Errorf("%s may delete a stream (%s)", r.User, s)
			}
		}
		if subs := r.Subscribe(); len(subs) != 1 || subs[0] != InboxPrefix(r.User)+".>" {
			t.Errorf("%s may subscribe to %v, want its own inbox only", r.User, subs)
		}
	}
}
