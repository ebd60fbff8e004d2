package deploy

import (
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/stream"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the files generated from pkg/stream/permissions.go")

// The files generated from stream.Roles, and the Secret the NATS servers of
// the Helm chart read the passwords from.
const (
	composeNATSUsers  = "deploy/compose/nats-users.conf"
	composeNATSConfig = "deploy/compose/nats.conf" // includes composeNATSUsers
	helmNATSUsers     = "deploy/helm/nats-users-values.yaml"
	helmNATSSecret    = "deploy/helm/nats-users-secret.yaml"
	natsUsersSecret   = "harbor-nats-users"
	natsNamespace     = "nats"
)

const generatedHeader = `# Harbor's NATS users and their permissions, generated from
# pkg/stream/permissions.go by
#   cd deploy && go test -run TestGeneratedNATSUsers -update
# Do not edit.
`

// harborRoles are Harbor's NATS users for the default settings, which the
// deployments keep.
func harborRoles(t *testing.T) []stream.Role {
	t.Helper()
	cfg, err := env.ParseAsWithOptions[ingest.Config](env.Options{Environment: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return stream.Roles(cfg.Stream, stream.Buckets{Tenants: cfg.Tenants.Bucket, Replicas: cfg.ReplicasBucket, Writers: cfg.WriterStatus.Bucket})
}

// passwordVariable is the environment variable of the NATS server, and the
// Secret key, that holds a role's password: NATS_API_PASSWORD for
// harbor-api. The part that connects as the role gets it as NATS_PASSWORD.
func passwordVariable(role string) string {
	return "NATS_" + strings.ToUpper(strings.TrimPrefix(role, "harbor-")) + "_PASSWORD"
}

// natsServerAuthorization is the authorization block of a nats-server
// configuration file with the roles as users, each password read from the
// server's environment.
func natsServerAuthorization(roles []stream.Role) string {
	var b strings.Builder
	b.WriteString("authorization {\n  users = [\n")
	allow := func(what string, subjects []string) {
		fmt.Fprintf(&b, "        %s: {\n          allow: [\n", what)
		for _, s := range subjects {
			fmt.Fprintf(&b, "            %q\n", s)
		}
		b.WriteString("          ]\n        }\n")
	}
	for _, r := range roles {
		fmt.Fprintf(&b, "    # %s: %s\n", r.User, r.Who)
		for _, g := range r.Grants {
			fmt.Fprintf(&b, "    #   - %s\n", g.Purpose)
		}
		fmt.Fprintf(&b, "    {\n      user: %q\n      password: $%s\n      permissions: {\n", r.User, passwordVariable(r.User))
		allow("publish", r.Publish())
		allow("subscribe", r.Subscribe())
		b.WriteString("      }\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// helmNATSUsersValues are values for the NATS chart that add the roles as
// users (config.merge, with the chart's << $VAR >> for a bare variable of
// the server's configuration) and give the server their passwords from the
// Secret natsUsersSecret.
func helmNATSUsersValues(t *testing.T, roles []stream.Role) string {
	t.Helper()
	var users []any
	envs := map[string]any{}
	for _, r := range roles {
		v := passwordVariable(r.User)
		users = append(users, map[string]any{
			"user":     r.User,
			"password": "<< $" + v + " >>",
			"permissions": map[string]any{
				"publish":   map[string]any{"allow": r.Publish()},
				"subscribe": map[string]any{"allow": r.Subscribe()},
			},
		})
		envs[v] = map[string]any{"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": natsUsersSecret, "key": v}}}
	}
	b, err := yaml.Marshal(map[string]any{
		"config":    map[string]any{"merge": map[string]any{"authorization": map[string]any{"users": users}}},
		"container": map[string]any{"env": envs},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGeneratedNATSUsers checks that the users of docker-compose.yml's NATS
// and of the Helm values are those of the code (-update rewrites them).
func TestGeneratedNATSUsers(t *testing.T) {
	roles := harborRoles(t)
	for rel, want := range map[string]string{
		composeNATSUsers: generatedHeader + natsServerAuthorization(roles),
		helmNATSUsers:    generatedHeader + helmNATSUsersValues(t, roles),
	} {
		if *update {
			if err := os.WriteFile(filepath.Join(repoRoot, rel), []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := string(readRepoFile(t, rel)); got != want {
			t.Errorf("%s is not what pkg/stream/permissions.go gives; run: cd deploy && go test -run TestGeneratedNATSUsers -update", rel)
		}
	}
}

// TestComposeNATSUsersLoad loads the compose file's NATS configuration
// (nats.conf, which includes the users) as nats-server does, with the
// passwords in its environment, and finds each role with its password and
// exactly its permissions, and no user that could connect without a
// password.
func TestComposeNATSUsersLoad(t *testing.T) {
	roles := harborRoles(t)
	for _, r := range roles {
		t.Setenv(passwordVariable(r.User), "pw-"+r.User)
	}
	opts, err := server.ProcessConfigFile(filepath.Join(repoRoot, composeNATSConfig))
	if err != nil {
		t.Fatalf("nats-server refuses %s: %v", composeNATSConfig, err)
	}
	if opts.NoAuthUser != "" || len(opts.Users) != len(roles) {
		t.Fatalf("%s: %d users (no_auth_user %q), want the %d roles", composeNATSUsers, len(opts.Users), opts.NoAuthUser, len(roles))
	}
	for i, r := range roles {
		u := opts.Users[i]
		if u.Username != r.User || u.Password != "pw-"+r.User {
			t.Errorf("user %d is %q with password %q, want %q with $%s", i, u.Username, u.Password, r.User, passwordVariable(r.User))
			continue
		}
		if u.Permissions == nil || u.Permissions.Publish == nil || u.Permissions.Subscribe == nil ||
			!slices.Equal(u.Permissions.Publish.Allow, r.Publish()) || !slices.Equal(u.Permissions.Subscribe.Allow, r.Subscribe()) {
			t.Errorf("user %s: permissions %+v, want publish %v, subscribe %v", r.User, u.Permissions, r.Publish(), r.Subscribe())
		}
	}
}

// TestComposeNATSUsers: the NATS server reads its configuration with the
// generated users beside it, and their passwords, and the API and the
// writers connect as their roles with the same passwords.
func TestComposeNATSUsers(t *testing.T) {
	p := loadCompose(t)
	nats := composeService(t, p, "nats")
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	mounted := map[string]string{} // repository file: where nats sees it
	for _, v := range nats.Volumes {
		if rel, err := filepath.Rel(root, v.Source); err == nil {
			mounted[filepath.ToSlash(rel)] = v.Target
		}
	}
	conf, users := mounted[composeNATSConfig], mounted[composeNATSUsers]
	if i := slices.Index(nats.Command, "-c"); conf == "" || i < 0 || i+1 >= len(nats.Command) || nats.Command[i+1] != conf {
		t.Fatalf("nats does not run with %s (mounted at %q) as its configuration: command %v", composeNATSConfig, conf, nats.Command)
	}
	if users != path.Join(path.Dir(conf), path.Base(composeNATSUsers)) {
		t.Fatalf("%s is mounted at %q, not beside %s (%s), which includes it", composeNATSUsers, users, composeNATSConfig, conf)
	}
	for _, r := range harborRoles(t) {
		if v := nats.Environment[passwordVariable(r.User)]; v == nil || *v == "" {
			t.Errorf("nats has no %s: user %s could not log in", passwordVariable(r.User), r.User)
		}
	}
	for service, role := range map[string]string{"ingest-api": stream.RoleAPI, "writer": stream.RoleWriter} {
		e := composeService(t, p, service).Environment
		user, password, want := e["NATS_USER"], e["NATS_PASSWORD"], nats.Environment[passwordVariable(role)]
		if user == nil || *user != role || password == nil || want == nil || *password != *want {
			t.Errorf("%s does not connect as %s with nats's %s", service, role, passwordVariable(role))
		}
	}
}

// TestHelmNATSUsers: the Secret the chart's values read the passwords from
// is there, in the NATS namespace, with a key for every role.
func TestHelmNATSUsers(t *testing.T) {
	obj, err := decodeManifest(readRepoFile(t, helmNATSSecret))
	if err != nil {
		t.Fatalf("%s: %v", helmNATSSecret, err)
	}
	secret, ok := obj.(*corev1.Secret)
	if !ok || secret.Name != natsUsersSecret || secret.Namespace != natsNamespace {
		t.Fatalf("%s is not the Secret %s/%s", helmNATSSecret, natsNamespace, natsUsersSecret)
	}
	for _, r := range harborRoles(t) {
		if _, ok := secret.StringData[passwordVariable(r.User)]; !ok {
			t.Errorf("Secret %s has no %s", natsUsersSecret, passwordVariable(r.User))
		}
	}
	// Both values files go to one helm install; they must not fight.
	v := loadValues(t, "deploy/helm/nats-values.yaml")
	if lookup(v, "config", "merge") != nil || lookup(v, "container", "env") != nil {
		t.Errorf("deploy/helm/nats-values.yaml sets config.merge or container.env, which %s owns", helmNATSUsers)
	}
}

// TestKubernetesNATSUsers: the API and the writers connect as their roles,
// with the password from Harbor's Secret.
func TestKubernetesNATSUsers(t *testing.T) {
	ms := loadManifests(t, "deploy/k8s/base")
	_, secret := baseConfig(t, ms)
	for name, role := range map[string]string{"ingest-api": stream.RoleAPI, "writer": stream.RoleWriter} {
		c := baseDeployments(t, ms)[name].Spec.Template.Spec.Containers[0]
		var user, password *corev1.EnvVar
		for i, e := range c.Env {
			switch e.Name {
			case "NATS_USER":
				user = &c.Env[i]
			case "NATS_PASSWORD":
				password = &c.Env[i]
			}
		}
		if user == nil || user.Value != role {
			t.Errorf("Deployment %s: NATS_USER is not %s", name, role)
		}
		key := passwordVariable(role)
		if password == nil || password.ValueFrom == nil || password.ValueFrom.SecretKeyRef == nil ||
			password.ValueFrom.SecretKeyRef.Name != secret.Name || password.ValueFrom.SecretKeyRef.Key != key {
			t.Errorf("Deployment %s: NATS_PASSWORD does not come from Secret %s key %s", name, secret.Name, key)
		}
	}
}
