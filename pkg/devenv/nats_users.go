package devenv

import (
	"crypto/rand"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSOption changes a setting of an embedded NATS server before it starts
// (WithUsers, WithSyncInterval).
type NATSOption func(*server.Options)

// NATSUser is a user of an embedded NATS server and the subjects it may
// publish and subscribe to (nil: none).
type NATSUser struct {
	Name, Password     string
	Publish, Subscribe []string
}

// WithUsers makes the server accept only these users, each with its
// permissions: a client without a user and password cannot connect.
func WithUsers(users ...NATSUser) NATSOption {
	return func(o *server.Options) {
		for _, u := range users {
			o.Users = append(o.Users, &server.User{
				Username: u.Name,
				Password: u.Password,
				Permissions: &server.Permissions{
					Publish:   allowOnly(u.Publish),
					Subscribe: allowOnly(u.Subscribe),
				},
			})
		}
	}
}

// allowOnly allows the subjects and nothing else: to the server, an empty
// allow list means everything.
func allowOnly(subjects []string) *server.SubjectPermission {
	if len(subjects) == 0 {
		return &server.SubjectPermission{Deny: []string{">"}}
	}
	return &server.SubjectPermission{Allow: subjects}
}

// NewPassword returns a random password (26 characters of base32), for
// users that live as long as a process.
func NewPassword() string {
	return rand.Text()
}
