package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// servicePorts are the HTTP ports of the services' /healthz (LISTEN_ADDR
// and HTTP_ADDR defaults).
var servicePorts = map[string]int{"ingest-api": 8080, "writer": 8081}

// serviceStages parses a service's Dockerfile, failing unless it has a build
// stage and a final one.
func serviceStages(t *testing.T, rel string) []stage {
	t.Helper()
	stages, err := parseDockerfile(string(readRepoFile(t, rel)))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stage(s), want a build stage and a final one", rel, len(stages))
	}
	return stages
}

// TestDockerfiles checks each service image: built with Go 1.26 from the
// repository root into a static, stripped binary, run on distroless as a
// numeric non-root user, with a HEALTHCHECK on the port it exposes, the same
// port Kubernetes probes.
func TestDockerfiles(t *testing.T) {
	deployments := baseDeployments(t, loadManifests(t, "deploy/k8s/base"))
	for service, port := range servicePorts {
		t.Run(service, func(t *testing.T) {
			rel := "services/" + service + "/Dockerfile"
			stages := serviceStages(t, rel)
			build, final := stages[0], stages[len(stages)-1]

			if build.base != "golang:1.26" {
				t.Errorf("%s builds on %s, want golang:1.26", rel, build.base)
			}
			goBuild := slices.ContainsFunc(build.all("RUN"), func(r instruction) bool {
				return strings.Contains(r.args, "CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'") &&
					strings.HasSuffix(r.args, " ./services/"+service)
			})
			if !goBuild {
				t.Errorf("%s: no RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' ... ./services/%s", rel, service)
			}

			if final.base != "gcr.io/distroless/static-debian12:nonroot" {
				t.Errorf("%s: final image on %s, want gcr.io/distroless/static-debian12:nonroot", rel, final.base)
			}
			users := final.all("USER")
			if len(users) == 0 || users[len(users)-1].args != "65532:65532" {
				t.Errorf("%s: the final stage does not run as USER 65532:65532 (numeric, for runAsNonRoot)", rel)
			}
			exposed := final.all("EXPOSE")
			if len(exposed) != 1 || exposed[0].args != fmt.Sprint(port) {
				t.Errorf("%s: want EXPOSE %d", rel, port)
			}
			checkHealthcheck(t, rel, final, port)
			checkWgetCopied(t, rel, stages)

			// A further port is the API's probe listener (TestIngestAPIProbeListener).
			ports := deployments[service].Spec.Template.Spec.Containers[0].Ports
			if len(ports) == 0 || ports[0].ContainerPort != int32(port) {
				t.Errorf("Deployment %s declares ports %v, want %d first, as the image", service, ports, port)
			}
		})
	}
}

// checkHealthcheck checks the final stage's HEALTHCHECK: the copied wget,
// exec form (there is no shell), on the service's /healthz.
func checkHealthcheck(t *testing.T, rel string, final stage, port int) {
	t.Helper()
	hcs := final.all("HEALTHCHECK")
	if len(hcs) != 1 {
		t.Errorf("%s: want one HEALTHCHECK in the final stage", rel)
		return
	}
	cmd, ok := strings.CutPrefix(hcs[0].args, "CMD ")
	argv, err := execForm(cmd)
	if !ok || err != nil {
		t.Errorf("%s: HEALTHCHECK %s: want CMD in exec form, distroless has no shell (%v)", rel, hcs[0].args, err)
		return
	}
	want := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	if len(argv) < 2 || argv[0] != "/usr/bin/wget" || argv[len(argv)-1] != want {
		t.Errorf("%s: HEALTHCHECK runs %q, want /usr/bin/wget ... %s", rel, argv, want)
	}
}

// checkWgetCopied checks that /usr/bin/wget comes from a static (musl)
// busybox.
func checkWgetCopied(t *testing.T, rel string, stages []stage) {
	t.Helper()
	bases := map[string]string{}
	for _, s := range stages {
		bases[s.name] = s.base
	}
	copied := slices.ContainsFunc(stages[len(stages)-1].all("COPY"), func(c instruction) bool {
		image := c.flags["from"]
		if base, ok := bases[image]; ok {
			image = base
		}
		return strings.HasSuffix(c.args, " /usr/bin/wget") &&
			strings.HasPrefix(image, "busybox:") && strings.HasSuffix(image, "-musl")
	})
	if !copied {
		t.Errorf("%s: the final stage does not copy a static busybox to /usr/bin/wget", rel)
	}
}

// TestParseDockerfile checks the reader the tests above rely on.
func TestParseDockerfile(t *testing.T) {
	stages, err := parseDockerfile(`# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
RUN --mount=type=cache,target=/go/pkg/mod \
    go build ./x
# a comment
FROM scratch
COPY --from=build /out/x /x
HEALTHCHECK --interval=5s CMD ["/x", "-check"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 || stages[0].name != "build" || stages[1].base != "scratch" {
		t.Fatalf("stages %+v", stages)
	}
	run := stages[0].all("RUN")
	if len(run) != 1 || run[0].args != "go build ./x" || run[0].flags["mount"] != "type=cache,target=/go/pkg/mod" {
		t.Errorf("RUN parsed as %+v", run)
	}
	hc := stages[1].all("HEALTHCHECK")
	if len(hc) != 1 || hc[0].flags["interval"] != "5s" || hc[0].args != `CMD ["/x", "-check"]` {
		t.Errorf("HEALTHCHECK parsed as %+v", hc)
	}
	if _, err := parseDockerfile("RUN true\nFROM scratch\n"); err == nil {
		t.Error("an instruction before FROM was accepted")
	}
}

// TestComposeHealthchecksMatchImages: compose repeats the images'
// HEALTHCHECK (compose does not see it), on the same port.
func TestComposeHealthchecksMatchImages(t *testing.T) {
	p := loadCompose(t)
	for service, port := range servicePorts {
		hc := composeService(t, p, service).HealthCheck
		if hc == nil {
			t.Errorf("compose service %s has no healthcheck", service)
			continue
		}
		want := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
		if len(hc.Test) == 0 || hc.Test[len(hc.Test)-1] != want {
			t.Errorf("compose healthcheck of %s is %q, want one ending in %s", service, hc.Test, want)
		}
	}
}

// TestDockerignoreKeepsWorkspace: the build runs in workspace mode, so every
// module go.work names must reach the build context.
func TestDockerignoreKeepsWorkspace(t *testing.T) {
	var ignored []string
	for _, line := range strings.Split(string(readRepoFile(t, ".dockerignore")), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			ignored = append(ignored, strings.TrimSuffix(line, "/"))
		}
	}
	for _, line := range strings.Split(string(readRepoFile(t, "go.work")), "\n") {
		dir, ok := strings.CutPrefix(strings.TrimSpace(line), "./")
		if !ok {
			continue
		}
		top, _, _ := strings.Cut(dir, "/")
		if slices.Contains(ignored, top) || slices.Contains(ignored, dir) {
			t.Errorf(".dockerignore drops %s, a module of go.work: the image build would fail", dir)
		}
	}
	for _, f := range []string{"go.work", "go.work.sum"} {
		if slices.Contains(ignored, f) {
			t.Errorf(".dockerignore drops %s", f)
		}
	}
}
