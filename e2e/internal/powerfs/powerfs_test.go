package powerfs

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mount(t *testing.T) *FS {
	t.Helper()
	f, err := Mount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return f
}

// must ends the test on err, from a file operation that has to work.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cut(t *testing.T, f *FS) Loss {
	t.Helper()
	loss, err := f.Cut(func() {})
	if err != nil {
		t.Fatal(err)
	}
	return loss
}

func write(t *testing.T, name string, flag int, data string, sync bool) {
	t.Helper()
	fd, err := os.OpenFile(name, flag|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if _, err := fd.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		must(t, fd.Sync())
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	must(t, d.Sync())
}

// want fails unless name holds content or, when exists is false, unless
// there is no such file.
func want(t *testing.T, name, content string, exists bool) {
	t.Helper()
	b, err := os.ReadFile(name)
	switch {
	case !exists && errors.Is(err, os.ErrNotExist):
	case !exists:
		t.Errorf("%s: want no such file, got %q, %v", filepath.Base(name), b, err)
	case err != nil:
		t.Errorf("%s: %v", filepath.Base(name), err)
	case string(b) != content:
		t.Errorf("%s holds %q, want %q", filepath.Base(name), b, content)
	}
}

func TestUnsyncedWritesAreLost(t *testing.T) {
	f := mount(t)
	a, b := filepath.Join(f.Dir(), "a"), filepath.Join(f.Dir(), "b")
	write(t, a, 0, "never synced", false)
	write(t, b, 0, "synced", true)
	want(t, b, "synced", true) // readable before the cut, as written
	want(t, a, "never synced", true)
	if loss := cut(t, f); loss != (Loss{Files: 1, Bytes: int64(len("never synced"))}) {
		t.Errorf("cut reports %+v, want a's data: 1 file, 12 bytes, no name", loss)
	}
	// b's fsync committed a's creation, not a's data.
	want(t, a, "", true)
	want(t, b, "synced", true)
}

func TestNothingSyncedNothingKept(t *testing.T) {
	f := mount(t)
	must(t, os.MkdirAll(filepath.Join(f.Dir(), "d", "e"), 0o755))
	write(t, filepath.Join(f.Dir(), "d", "e", "a"), 0, "data", false)
	cut(t, f)
	want(t, filepath.Join(f.Dir(), "d"), "", false)
}

func TestSyncKeepsEverything(t *testing.T) {
	f := mount(t)
	d := filepath.Join(f.Dir(), "d")
	must(t, os.Mkdir(d, 0o755))
	a := filepath.Join(d, "a")
	write(t, a, 0, "kept", false)
	must(t, f.Sync())
	write(t, a, os.O_APPEND, ", lost", false)
	cut(t, f)
	want(t, a, "kept", true)
}

func TestWritesAfterTheFsyncAreLost(t *testing.T) {
	f := mount(t)
	a := filepath.Join(f.Dir(), "a")
	write(t, a, 0, "hello", true)
	write(t, a, os.O_APPEND, " world", false)
	write(t, filepath.Join(f.Dir(), "b"), 0, "x", true) // syncs b, not a's data
	want(t, a, "hello world", true)
	cut(t, f)
	want(t, a, "hello", true)

	write(t, a, os.O_TRUNC, "", false) // truncation, unsynced
	cut(t, f)
	want(t, a, "hello", true)
}

func TestOSyncWritesAreDurable(t *testing.T) {
	f := mount(t)
	a := filepath.Join(f.Dir(), "a")
	write(t, a, 0, "first", true)
	write(t, a, os.O_APPEND|os.O_SYNC, ", second", false)
	cut(t, f)
	want(t, a, "first, second", true)
}

func TestRenameNeedsASync(t *testing.T) {
	f := mount(t)
	dir := f.Dir()
	tmp, name := filepath.Join(dir, "meta.tmp"), filepath.Join(dir, "meta")
	write(t, tmp, 0, "v1", true)
	must(t, os.Rename(tmp, name))
	if loss := cut(t, f); loss != (Loss{Names: 2}) {
		t.Errorf("cut reports %+v, want 2 names (meta.tmp gone, meta new)", loss)
	}
	want(t, name, "", false)
	want(t, tmp, "v1", true)

	must(t, os.Rename(tmp, name))
	syncDir(t, dir)
	cut(t, f)
	want(t, name, "v1", true)
	want(t, tmp, "", false)
}

func TestCreateAndRenameWithoutSyncAreGone(t *testing.T) {
	f := mount(t)
	tmp, name := filepath.Join(f.Dir(), "x.tmp"), filepath.Join(f.Dir(), "x")
	write(t, tmp, 0, "data", false)
	must(t, os.Rename(tmp, name))
	cut(t, f)
	want(t, tmp, "", false)
	want(t, name, "", false)
}

func TestUnsyncedRemovalsComeBack(t *testing.T) {
	f := mount(t)
	d := filepath.Join(f.Dir(), "d")
	must(t, os.Mkdir(d, 0o755))
	a := filepath.Join(d, "a")
	write(t, a, 0, "kept", true)
	must(t, os.RemoveAll(d))
	cut(t, f)
	want(t, a, "kept", true)

	must(t, os.RemoveAll(d))
	syncDir(t, f.Dir())
	cut(t, f)
	want(t, d, "", false)
}

func TestNoOperationOnceThePowerIsOff(t *testing.T) {
	f := mount(t)
	a := filepath.Join(f.Dir(), "a")
	write(t, a, 0, "before", true)
	fd, err := os.OpenFile(a, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Cut(func() {
		_, werr := fd.WriteString(" after")
		serr := fd.Sync()
		fd.Close()
		if !errors.Is(werr, syscall.EIO) || !errors.Is(serr, syscall.EIO) {
			t.Errorf("write and fsync with the power off: %v, %v; want EIO", werr, serr)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want(t, a, "before", true)
}

// TestManySyncsAndOverwrites checks the durable copy against the data
// through appends, overwrites and truncations synced at random.
func TestManySyncsAndOverwrites(t *testing.T) {
	f := mount(t)
	a := filepath.Join(f.Dir(), "a")
	rng := rand.New(rand.NewPCG(1, 2))
	fd, err := os.OpenFile(a, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var model, synced []byte
	for i := range 500 {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1+rng.IntN(5000))
		switch rng.IntN(10) {
		case 0: // overwrite inside
			if len(model) > 0 {
				off := rng.IntN(len(model))
				if _, err := fd.WriteAt(chunk, int64(off)); err != nil {
					t.Fatal(err)
				}
				if end := off + len(chunk); end > len(model) {
					model = append(model, make([]byte, end-len(model))...)
				}
				copy(model[off:], chunk)
			}
		case 1: // truncate
			size := rng.IntN(len(model) + 1)
			must(t, fd.Truncate(int64(size)))
			model = model[:size]
		default: // append
			if _, err := fd.WriteAt(chunk, int64(len(model))); err != nil {
				t.Fatal(err)
			}
			model = append(model, chunk...)
		}
		if rng.IntN(4) == 0 {
			must(t, fd.Sync())
			synced = append(synced[:0], model...)
		}
	}
	fd.Close()
	if b, err := os.ReadFile(a); err != nil || !bytes.Equal(b, model) {
		t.Fatalf("before the cut: %d bytes (%v), want the %d written", len(b), err, len(model))
	}
	cut(t, f)
	if b, err := os.ReadFile(a); err != nil || !bytes.Equal(b, synced) {
		t.Fatalf("after the cut: %d bytes (%v), want the %d synced", len(b), err, len(synced))
	}
}

func TestUnmountLeavesNoMount(t *testing.T) {
	f, err := Mount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cut(t, f)
	must(t, f.Unmount())
	if mounted(t, f.Dir()) {
		t.Fatalf("%s still mounted after Unmount", f.Dir())
	}
}

// TestStaleMountsAreCleanedUp kills a process that holds a mount, as a
// test timeout does, and checks that the next Mount unmounts it.
func TestStaleMountsAreCleanedUp(t *testing.T) {
	if dir := os.Getenv("POWERFS_TEST_HOLD"); dir != "" {
		if _, err := Mount(dir); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("mounted\n")
		select {} // until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleMountsAreCleanedUp$")
	cmd.Env = append(os.Environ(), "POWERFS_TEST_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "mounted\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper process: %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !mounted(t, dir) {
		t.Fatal("the killed process's mount is already gone: nothing to test")
	}
	mount(t)
	if mounted(t, dir) {
		t.Fatalf("%s still mounted after Mount", dir)
	}
}

// mounted tells whether a file system is mounted on dir.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(mounts), " "+dir+" ")
}
