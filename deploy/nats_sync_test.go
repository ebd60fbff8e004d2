package deploy

import (
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/nats-io/nats-server/v2/server"
)

// TestComposeNATSSyncsBeforeAcknowledging checks that the single NATS server
// of docker-compose.yml runs the mounted config file, and that the file, as
// nats-server parses it, enables JetStream on the data volume and writes
// each message to disk before acknowledging it: with one copy, nothing else
// makes a 200 survive a power cut.
func TestComposeNATSSyncsBeforeAcknowledging(t *testing.T) {
	p := loadCompose(t)
	nats := composeService(t, p, "nats")
	cmd := []string(nats.Command)
	if len(cmd) != 2 || cmd[0] != "-c" {
		t.Fatalf("nats runs %q, want [-c <config file>]: flags cannot set sync_interval", cmd)
	}
	var confFile, dataDir string
	for _, v := range nats.Volumes {
		switch {
		case v.Target == cmd[1] && v.Type == types.VolumeTypeBind:
			confFile = v.Source
		case v.Type == types.VolumeTypeVolume:
			dataDir = v.Target
		}
	}
	if confFile == "" || dataDir == "" {
		t.Fatalf("nats mounts no config file at %s from the repository, or no named volume (volumes %+v)", cmd[1], nats.Volumes)
	}
	for _, r := range harborRoles(t) { // the users it includes read their passwords from the environment
		t.Setenv(passwordVariable(r.User), "pw-"+r.User)
	}
	opts, err := server.ProcessConfigFile(confFile)
	if err != nil {
		t.Fatalf("nats-server refuses %s: %v", confFile, err)
	}
	if !opts.JetStream || opts.StoreDir != dataDir {
		t.Errorf("%s: JetStream %v with its store in %q, want it on the volume at %s", confFile, opts.JetStream, opts.StoreDir, dataDir)
	}
	if !opts.SyncAlways {
		t.Errorf("%s does not set jetstream { sync_interval: always }: the server acknowledges before its data is on disk", confFile)
	}
	if hc := strings.Join(nats.HealthCheck.Test, " "); opts.HTTPPort == 0 || !strings.Contains(hc, ":"+strconv.Itoa(opts.HTTPPort)+"/") {
		t.Errorf("%s serves monitoring on port %d, but the healthcheck is %q", confFile, opts.HTTPPort, hc)
	}
}

// TestHelmNATSSyncsBeforeAcknowledging checks that the chart values add
// sync_interval: always to each server's jetstream block (the chart's
// config.jetstream.merge), the default Harbor ships for three copies too.
func TestHelmNATSSyncsBeforeAcknowledging(t *testing.T) {
	v := loadValues(t, "deploy/helm/nats-values.yaml")
	if got := lookup(v, "config", "jetstream", "merge", "sync_interval"); got != "always" {
		t.Errorf("nats-values.yaml: config.jetstream.merge.sync_interval is %v, want always", got)
	}
}
