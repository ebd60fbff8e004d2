package stream

import (
	"slices"
	"strings"
)

// The roles: each part of Harbor connects to NATS as one of these users,
// with only the permissions Roles gives it.
const (
	// RoleAPI is the ingest API: it publishes readings, reads the tenants
	// bucket, beats in the replicas bucket and watches the backlog.
	RoleAPI = "harbor-api"
	// RoleWriter is a writer: it consumes readings, acknowledges them and
	// dead-letters what it cannot decode.
	RoleWriter = "harbor-writer"
	// RoleAdmin manages harbors and keys: harborctl, and the API's admin
	// API when ADMIN_TOKEN is set.
	RoleAdmin = "harbor-admin"
	// RoleOperator changes the streams' settings and runs `writer replay`
	// and `writer dead-letter`.
	RoleOperator = "harbor-operator"
)

// Role is one NATS user of Harbor and what it may do, by purpose.
type Role struct {
	// User is the role's name, and its user name in the generated server
	// configurations.
	User string
	// Who says which part of Harbor connects as this user.
	Who    string
	Grants []Grant
}

// Grant is what one purpose needs: the subjects to publish to and to
// subscribe to. A subject may be in several grants.
type Grant struct {
	Purpose   string
	Publish   []string
	Subscribe []string
}

// Publish is every subject the role may publish to, sorted, once each.
func (r Role) Publish() []string { return r.collect(func(g Grant) []string { return g.Publish }) }

// Subscribe is every subject the role may subscribe to, sorted, once each.
func (r Role) Subscribe() []string { return r.collect(func(g Grant) []string { return g.Subscribe }) }

func (r Role) collect(of func(Grant) []string) []string {
	var out []string
	for _, g := range r.Grants {
		out = append(out, of(g)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// InboxPrefix is where a role's connections get their replies (JetStream
// API answers, publish acknowledgements, pulled and watched messages): a
// prefix of its own, so that no other role can subscribe to them.
func InboxPrefix(role string) string { return "_INBOX_" + role }

// Buckets names the key-value buckets the roles use besides the streams.
type Buckets struct {
	// Tenants holds harbors and key hashes (TENANTS_BUCKET).
	Tenants string
	// Replicas holds the API replicas' heartbeats (REPLICAS_BUCKET).
	Replicas string
	// Writers holds the writers' reports of whether they can write
	// (WRITER_STATUS_BUCKET), which the API's readiness follows.
	Writers string
}

// Roles are Harbor's NATS users with the least permissions each part
// needs, for the streams of c and the buckets b. The embedded servers of
// the tests and of `make run`, and the users of docker-compose.yml and of
// the Helm values, all come from here.
//
// No role but the operator may update a stream or a bucket: a stream's
// settings can republish its messages to any subject of the account, so the
// right to change them is the right to write everywhere, the tenants bucket
// included. The services may create what is missing (CREATE of an existing
// stream with other settings fails); changing settings later is the
// operator's (`harborctl stream apply`). Without NATS users the ingest API
// applies them itself at start (stream.Ensure).
func Roles(c Config, b Buckets) []Role {
	return []Role{
		{User: RoleAPI, Who: "the ingest API", Grants: []Grant{
			inbox(RoleAPI), c.createStreams(), c.publishReadings(), c.watchBacklog(), c.trimHistory(),
			readBucket(b.Tenants), createBucket(b.Tenants), heartbeats(b.Replicas),
			readBucket(b.Writers), createBucket(b.Writers),
		}},
		{User: RoleWriter, Who: "the writers", Grants: []Grant{
			inbox(RoleWriter), c.createStreams(), c.consumeReadings(), c.deadLetters(), heartbeats(b.Writers),
		}},
		{User: RoleAdmin, Who: "harborctl, and the ingest API's admin API (ADMIN_TOKEN)", Grants: []Grant{
			inbox(RoleAdmin), readBucket(b.Tenants), createBucket(b.Tenants), writeBucket(b.Tenants),
		}},
		{User: RoleOperator, Who: "people changing stream settings, `writer replay`, `writer dead-letter`", Grants: []Grant{
			inbox(RoleOperator), c.manageStreams(b), c.replay(), c.readDeadLetters(), c.publishReadings(),
		}},
	}
}

// jsAPI is the subject of a JetStream API request.
func jsAPI(parts ...string) string { return "$JS.API." + strings.Join(parts, ".") }

// kvStream is the stream behind a key-value bucket.
func kvStream(bucket string) string { return "KV_" + bucket }

func inbox(role string) Grant {
	return Grant{
		Purpose:   "replies to its own requests, on its own inbox",
		Subscribe: []string{InboxPrefix(role) + ".>"},
	}
}

// createStreams is what Ensure needs when the streams exist as configured
// (or do not exist yet): CREATE, and INFO.
func (c Config) createStreams() Grant {
	var pub []string
	for _, s := range []string{c.Name, c.DeadLetterName()} {
		pub = append(pub, jsAPI("STREAM", "CREATE", s), jsAPI("STREAM", "INFO", s))
	}
	return Grant{Purpose: "create the readings and dead-letter streams when they are missing", Publish: pub}
}

// manageStreams changes the settings of every stream and bucket.
func (c Config) manageStreams(b Buckets) Grant {
	pub := []string{jsAPI("INFO")}
	for _, s := range []string{c.Name, c.DeadLetterName(), kvStream(b.Tenants), kvStream(b.Replicas), kvStream(b.Writers)} {
		for _, op := range []string{"CREATE", "UPDATE", "INFO"} {
			pub = append(pub, jsAPI("STREAM", op, s))
		}
	}
	return Grant{Purpose: "change the settings of the streams and buckets", Publish: pub}
}

func (c Config) publishReadings() Grant {
	return Grant{Purpose: "publish readings", Publish: []string{c.Subject("*")}}
}

func (c Config) watchBacklog() Grant {
	return Grant{Purpose: "measure the writers' backlog", Publish: []string{
		jsAPI("STREAM", "INFO", c.Name), jsAPI("CONSUMER", "INFO", c.Name, c.Consumer),
	}}
}

// trimHistory is what the API's Trimmer needs to remove written history:
// finding the first message at or after a sequence (to read its time) and
// purging up to a sequence. Neither can move a message elsewhere.
func (c Config) trimHistory() Grant {
	return Grant{Purpose: "trim written history (the Trimmer)", Publish: []string{
		jsAPI("STREAM", "MSG", "GET", c.Name), jsAPI("STREAM", "PURGE", c.Name),
	}}
}

// consumeReadings is the durable pull consumer: create it, pull from it,
// acknowledge (ack, nak, term) what was pulled.
func (c Config) consumeReadings() Grant {
	return Grant{Purpose: "consume and acknowledge readings (the durable consumer)", Publish: []string{
		jsAPI("CONSUMER", "CREATE", c.Name, c.Consumer),
		jsAPI("CONSUMER", "CREATE", c.Name, c.Consumer, ">"),
		jsAPI("CONSUMER", "INFO", c.Name, c.Consumer),
		jsAPI("CONSUMER", "MSG", "NEXT", c.Name, c.Consumer),
		"$JS.ACK." + c.Name + "." + c.Consumer + ".>",
	}}
}

func (c Config) deadLetters() Grant {
	return Grant{Purpose: "dead-letter messages it cannot decode", Publish: []string{c.DeadLetterSubject("*")}}
}

// replay reads the readings stream with ordered consumers of its own.
func (c Config) replay() Grant {
	return Grant{Purpose: "replay the readings stream", Publish: []string{
		jsAPI("STREAM", "INFO", c.Name),
		jsAPI("CONSUMER", "CREATE", c.Name, ">"),
		jsAPI("CONSUMER", "DELETE", c.Name, ">"),
		jsAPI("CONSUMER", "MSG", "NEXT", c.Name, ">"),
	}}
}

func (c Config) readDeadLetters() Grant {
	d := c.DeadLetterName()
	return Grant{Purpose: "list dead letters", Publish: []string{
		jsAPI("STREAM", "INFO", d), jsAPI("STREAM", "MSG", "GET", d), jsAPI("DIRECT", "GET", d), jsAPI("DIRECT", "GET", d, ">"),
	}}
}

// readBucket is what reading and watching a key-value bucket takes: its
// stream's info, direct gets, and the ordered consumers of watches and key
// listings, with their flow control.
func readBucket(bucket string) Grant {
	s := kvStream(bucket)
	return Grant{Purpose: "read and watch bucket " + bucket, Publish: []string{
		jsAPI("STREAM", "INFO", s),
		jsAPI("DIRECT", "GET", s, ">"), // a key's last value (KV buckets allow direct gets)
		jsAPI("CONSUMER", "CREATE", s, ">"), jsAPI("CONSUMER", "DELETE", s, ">"),
		"$JS.FC." + s + ".>",
	}}
}

// createBucket creates a missing bucket (CREATE fails on an existing one
// with other settings, so it changes none).
func createBucket(bucket string) Grant {
	return Grant{Purpose: "create bucket " + bucket + " when it is missing", Publish: []string{
		jsAPI("INFO"), jsAPI("STREAM", "CREATE", kvStream(bucket)),
	}}
}

// writeBucket puts and deletes keys, and brings the bucket's settings up
// to date (tenant.Open).
func writeBucket(bucket string) Grant {
	return Grant{Purpose: "write bucket " + bucket, Publish: []string{
		"$KV." + bucket + ".>", jsAPI("STREAM", "UPDATE", kvStream(bucket)),
	}}
}

// heartbeats is the API replicas' bucket: read, write, create if missing.
// heartbeats is a bucket of one key per live process, each refreshing its
// own: read it, create it when missing, put and delete keys.
func heartbeats(bucket string) Grant {
	g := readBucket(bucket)
	g.Purpose = "beat in bucket " + bucket + " and see the others' beats"
	g.Publish = append(g.Publish, createBucket(bucket).Publish...)
	g.Publish = append(g.Publish, "$KV."+bucket+".>")
	return g
}
