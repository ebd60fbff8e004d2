// Package powerfs is a FUSE filesystem, kept in memory, whose power can be
// cut: a cut loses every write that was not made durable, as a machine
// that loses its power does, so that a test can check what a program that
// answered "stored" really kept.
//
// What survives a cut follows what journaling filesystems (ext4, XFS)
// guarantee, and nothing more:
//
//   - File data is durable up to the file's last fsync or fdatasync, or as
//     written through a descriptor opened with O_SYNC or O_DSYNC. Writes and
//     truncations after that are lost; a file whose name is durable but
//     whose data was never synced comes back empty.
//   - Names (creations, renames, removals of files and directories) are
//     journaled in order: every fsync, of any file or directory, makes all
//     the name changes before it durable. Name changes after the last fsync
//     are lost: a file created or renamed since comes back under its old
//     name or not at all, a file removed since comes back.
//
// Nothing else becomes durable by itself: the kernel's own writeback of
// dirty pages (after about 30 s on Linux) is not modelled, so a cut is the
// worst case. The kernel's page cache cannot hide a loss either: a cut
// unmounts the filesystem and mounts a new one, with only the durable state,
// on the same directory, as a reboot does.
//
// It holds directories and regular files only: no links, no special files.
package powerfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is a mounted powerfs.
type FS struct {
	dir string

	mu     sync.Mutex // serializes Cut, Sync and Unmount
	server *fuse.Server
	power  *power
	root   *dirNode

	// commitMu serializes journal commits; durable is the namespace as of
	// the last commit.
	commitMu sync.Mutex
	durable  []entry
}

// power is the state of one mount: once off, every operation fails with
// EIO and nothing more becomes durable.
type power struct {
	fs  *FS
	off atomic.Bool
}

// entry is one name of the durable namespace: a directory, or a file whose
// durable content is its node's synced data.
type entry struct {
	path string // relative to the root, parents before children
	mode uint32 // permission bits
	file *fileNode
}

// Mount mounts an empty powerfs on dir, which must exist. It needs root (or
// fusermount) and /dev/fuse. Unmount it when done. It first unmounts the
// powerfs mounts left behind by processes that died without unmounting
// theirs (a test binary killed at its timeout).
func Mount(dir string) (*FS, error) {
	unmountStale()
	f := &FS{dir: dir}
	if err := f.mount(); err != nil {
		return nil, err
	}
	return f, nil
}

// Dir is the directory the filesystem is mounted on.
func (f *FS) Dir() string { return f.dir }

func (f *FS) mount() error {
	p := &power{fs: f}
	root := &dirNode{power: p, mode: 0o755}
	root.restore = f.durable
	timeout := time.Second
	server, err := fs.Mount(f.dir, root, &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		MountOptions: fuse.MountOptions{
			FsName: "powerfs",
			Name:   "powerfs",
			// Root mounts with mount(2) directly; others fall back on
			// fusermount.
			DirectMount: true,
		},
	})
	if err != nil {
		return fmt.Errorf("mount powerfs on %s (needs /dev/fuse, and root or fusermount3): %w", f.dir, err)
	}
	f.server, f.power, f.root = server, p, root
	return nil
}

// Sync makes everything written so far durable, as sync(2) does: what a
// program's periodic fsync of all its files would do.
func (f *FS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.server == nil {
		return errors.New("powerfs: sync after unmount")
	}
	var walk func(n *fs.Inode)
	walk = func(n *fs.Inode) {
		for _, child := range n.Children() {
			switch node := child.Operations().(type) {
			case *dirNode:
				walk(child)
			case *fileNode:
				node.mu.Lock()
				node.sync()
				node.mu.Unlock()
			}
		}
	}
	root := f.root.EmbeddedInode()
	walk(root)
	if errno := f.power.commit(root); errno != 0 {
		return fmt.Errorf("powerfs: sync: %w", errno)
	}
	return nil
}

// Cut cuts the power: from this moment no operation on the filesystem
// succeeds and nothing more becomes durable. kill must stop every process
// that uses the filesystem (they hold files open on it: SIGKILL them and
// wait for them). Then the filesystem comes back, mounted on the same
// directory, with only what was durable at the cut. It returns what the
// cut dropped.
func (f *FS) Cut(kill func()) (Loss, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.server == nil {
		return Loss{}, errors.New("powerfs: cut after unmount")
	}
	f.commitMu.Lock()
	f.power.off.Store(true)
	f.commitMu.Unlock()
	kill()
	loss := f.loss(namespace(f.root.EmbeddedInode()))
	if err := f.server.Unmount(); err != nil {
		return Loss{}, fmt.Errorf("unmount powerfs from %s for the cut (is a process still using it?): %w", f.dir, err)
	}
	f.server = nil
	// Freeze the durable state: copies the new mount owns.
	restored := make([]entry, len(f.durable))
	for i, e := range f.durable {
		restored[i] = e
		if e.file != nil {
			restored[i].file = e.file.durableCopy()
		}
	}
	f.durable = restored
	return loss, f.mount()
}

// Unmount unmounts the filesystem; what it held is gone.
func (f *FS) Unmount() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.server == nil {
		return nil
	}
	if err := f.server.Unmount(); err != nil {
		return fmt.Errorf("unmount powerfs from %s (is a process still using it?): %w", f.dir, err)
	}
	f.server = nil
	return nil
}

// commit makes the current namespace durable, as a journal commit does.
func (p *power) commit(root *fs.Inode) syscall.Errno {
	f := p.fs
	f.commitMu.Lock()
	defer f.commitMu.Unlock()
	if p.off.Load() {
		return syscall.EIO
	}
	f.durable = namespace(root)
	return 0
}

// namespace lists the names under root, parents before children.
func namespace(root *fs.Inode) []entry {
	var names []entry
	var walk func(dir string, n *fs.Inode)
	walk = func(dir string, n *fs.Inode) {
		children := n.Children()
		keys := make([]string, 0, len(children))
		for name := range children {
			keys = append(keys, name)
		}
		slices.Sort(keys)
		for _, name := range keys {
			child := children[name]
			p := path.Join(dir, name)
			switch node := child.Operations().(type) {
			case *dirNode:
				names = append(names, entry{path: p, mode: node.getMode()})
				walk(p, child)
			case *fileNode:
				names = append(names, entry{path: p, mode: node.getMode(), file: node})
			}
		}
	}
	walk("", root)
	return names
}

// Loss is what a cut dropped.
type Loss struct {
	// Files is the number of files written or truncated since their last
	// sync, Bytes the size of their data from the first such change to
	// their end (0 for a file only truncated).
	Files int
	Bytes int64
	// Names is the number of names created, renamed or removed since the
	// last fsync.
	Names int
}

// loss is what a cut drops of the live namespace; the power is off.
func (f *FS) loss(live []entry) Loss {
	var l Loss
	durable := map[entry]bool{}
	for _, e := range f.durable {
		durable[entry{path: e.path, file: e.file}] = true
	}
	for _, e := range live {
		key := entry{path: e.path, file: e.file}
		if durable[key] {
			delete(durable, key)
		} else {
			l.Names++
		}
		if e.file != nil {
			e.file.mu.Lock()
			if e.file.dirty >= 0 {
				l.Files++
				l.Bytes += int64(len(e.file.data) - min(e.file.dirty, len(e.file.data)))
			}
			e.file.mu.Unlock()
		}
	}
	l.Names += len(durable)
	return l
}

// check fails an operation once the power is off.
func (p *power) check() syscall.Errno {
	if p.off.Load() {
		return syscall.EIO
	}
	return 0
}

// syncFlags are the open flags that make every write durable.
const syncFlags = uint32(os.O_SYNC | syscall.O_DSYNC)

// unmountStale detaches every powerfs mount whose server is gone: the
// kernel answers ENOTCONN on it.
func unmountStale() {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	for line := range strings.Lines(string(mounts)) {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] != "fuse.powerfs" {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(fields[1], &st); errors.Is(err, syscall.ENOTCONN) {
			_ = syscall.Unmount(fields[1], syscall.MNT_DETACH)
		}
	}
}
