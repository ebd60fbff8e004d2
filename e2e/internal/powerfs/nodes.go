package powerfs

import (
	"context"
	"path"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// dirNode is a directory. Its children are the go-fuse inode tree's.
type dirNode struct {
	fs.Inode
	power *power

	mu    sync.Mutex
	mode  uint32
	mtime time.Time

	restore []entry // on the root of a new mount: the namespace to bring back
}

var (
	_ fs.NodeOnAdder   = (*dirNode)(nil)
	_ fs.NodeGetattrer = (*dirNode)(nil)
	_ fs.NodeSetattrer = (*dirNode)(nil)
	_ fs.NodeCreater   = (*dirNode)(nil)
	_ fs.NodeMkdirer   = (*dirNode)(nil)
	_ fs.NodeUnlinker  = (*dirNode)(nil)
	_ fs.NodeRmdirer   = (*dirNode)(nil)
	_ fs.NodeRenamer   = (*dirNode)(nil)
	_ fs.NodeFsyncer   = (*dirNode)(nil)
	_ fs.NodeStatfser  = (*dirNode)(nil)
)

// OnAdd brings back the durable namespace when this is the root of a new
// mount.
func (d *dirNode) OnAdd(ctx context.Context) {
	inodes := map[string]*fs.Inode{"": d.EmbeddedInode()}
	for _, e := range d.restore {
		dir := path.Dir(e.path)
		if dir == "." {
			dir = ""
		}
		parent := inodes[dir]
		var child *fs.Inode
		if e.file != nil {
			e.file.power = d.power
			child = parent.NewPersistentInode(ctx, e.file, fs.StableAttr{Mode: syscall.S_IFREG})
		} else {
			child = parent.NewPersistentInode(ctx, &dirNode{power: d.power, mode: e.mode, mtime: time.Now()}, fs.StableAttr{Mode: syscall.S_IFDIR})
		}
		parent.AddChild(path.Base(e.path), child, false)
		inodes[e.path] = child
	}
	d.restore = nil
}

func (d *dirNode) getMode() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mode
}

func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.mu.Lock()
	defer d.mu.Unlock()
	out.Mode = syscall.S_IFDIR | d.mode
	out.Nlink = 2
	out.Size = 4096
	out.SetTimes(nil, &d.mtime, &d.mtime)
	return 0
}

func (d *dirNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := d.power.check(); errno != 0 {
		return errno
	}
	d.mu.Lock()
	setModeAndTime(in, &d.mode, &d.mtime)
	d.mu.Unlock()
	return d.Getattr(ctx, fh, out)
}

// setModeAndTime gives a node the permission bits and modification time
// that in sets, if it sets them (chmod, utimes).
func setModeAndTime(in *fuse.SetAttrIn, mode *uint32, mtime *time.Time) {
	if m, ok := in.GetMode(); ok {
		*mode = m & 0o7777
	}
	if t, ok := in.GetMTime(); ok {
		*mtime = t
	}
}

func (d *dirNode) touch() {
	d.mu.Lock()
	d.mtime = time.Now()
	d.mu.Unlock()
}

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := d.power.check(); errno != 0 {
		return nil, nil, 0, errno
	}
	if d.GetChild(name) != nil {
		return nil, nil, 0, syscall.EEXIST
	}
	f := &fileNode{power: d.power, mode: mode & 0o7777, mtime: time.Now(), dirty: -1}
	child := d.NewPersistentInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG})
	d.touch()
	f.attr(&out.Attr)
	return child, &handle{sync: flags&syncFlags != 0}, 0, 0
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := d.power.check(); errno != 0 {
		return nil, errno
	}
	if d.GetChild(name) != nil {
		return nil, syscall.EEXIST
	}
	n := &dirNode{power: d.power, mode: mode & 0o7777, mtime: time.Now()}
	child := d.NewPersistentInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFDIR})
	d.touch()
	out.Mode = syscall.S_IFDIR | n.mode
	return child, 0
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.remove(name, false)
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.remove(name, true)
}

// remove is unlink (dir false) or rmdir (dir true) of the child name: it
// checks that the child may go, and touches d.
func (d *dirNode) remove(name string, dir bool) syscall.Errno {
	if errno := d.power.check(); errno != 0 {
		return errno
	}
	child := d.GetChild(name)
	switch {
	case child == nil:
		return syscall.ENOENT
	case !dir && child.IsDir():
		return syscall.EISDIR
	case dir && !child.IsDir():
		return syscall.ENOTDIR
	case dir && len(child.Children()) > 0:
		return syscall.ENOTEMPTY
	}
	d.touch()
	return 0 // the bridge removes the child
}

func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if errno := d.power.check(); errno != 0 {
		return errno
	}
	to, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	child := d.GetChild(name)
	if child == nil {
		return syscall.ENOENT
	}
	if target := to.GetChild(newName); target != nil {
		switch {
		case flags&unix.RENAME_EXCHANGE != 0:
		case flags&unix.RENAME_NOREPLACE != 0:
			return syscall.EEXIST
		case child.IsDir() && !target.IsDir():
			return syscall.ENOTDIR
		case !child.IsDir() && target.IsDir():
			return syscall.EISDIR
		case target.IsDir() && len(target.Children()) > 0:
			return syscall.ENOTEMPTY
		}
	} else if flags&unix.RENAME_EXCHANGE != 0 {
		return syscall.ENOENT
	}
	d.touch()
	to.touch()
	return 0 // the bridge moves the child
}

// Fsync on a directory commits the journal: every name change so far is
// durable.
func (d *dirNode) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	return d.power.commit(d.Root())
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	const blocks = 1 << 26 // 256 GiB of 4 KiB blocks, all free
	*out = fuse.StatfsOut{Blocks: blocks, Bfree: blocks, Bavail: blocks, Files: 1 << 20, Ffree: 1 << 20, Bsize: 4096, NameLen: 255, Frsize: 4096}
	return 0
}

// fileNode is a regular file: data is what reads see, synced what a cut
// leaves.
type fileNode struct {
	fs.Inode
	power *power

	mu     sync.Mutex
	mode   uint32
	mtime  time.Time
	data   []byte
	synced []byte
	// dirty is the offset from which data may differ from synced, -1 when
	// they are equal.
	dirty int
}

// handle is an open file; writes through a handle opened with O_SYNC or
// O_DSYNC are durable at once.
type handle struct {
	sync bool
}

var (
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeReader    = (*fileNode)(nil)
	_ fs.NodeWriter    = (*fileNode)(nil)
	_ fs.NodeGetattrer = (*fileNode)(nil)
	_ fs.NodeSetattrer = (*fileNode)(nil)
	_ fs.NodeFsyncer   = (*fileNode)(nil)
	_ fs.NodeFlusher   = (*fileNode)(nil)
)

func (f *fileNode) getMode() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode
}

// durableCopy is a new node holding what survives a cut of f.
func (f *fileNode) durableCopy() *fileNode {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &fileNode{mode: f.mode, mtime: f.mtime, data: append([]byte(nil), f.synced...), synced: append([]byte(nil), f.synced...), dirty: -1}
}

func (f *fileNode) attr(out *fuse.Attr) {
	out.Mode = syscall.S_IFREG | f.mode
	out.Nlink = 1
	out.Size = uint64(len(f.data))
	out.Blocks = (out.Size + 511) / 512
	out.SetTimes(nil, &f.mtime, &f.mtime)
}

func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if errno := f.power.check(); errno != 0 {
		return nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		f.mu.Lock()
		f.resize(0)
		f.mu.Unlock()
	}
	return &handle{sync: flags&syncFlags != 0}, 0, 0
}

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if errno := f.power.check(); errno != 0 {
		return nil, errno
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), 0
	}
	n := copy(dest, f.data[off:])
	return fuse.ReadResultData(dest[:n]), 0
}

func (f *fileNode) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := f.power.check(); errno != 0 {
		return 0, errno
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := int(off) + len(data); end > len(f.data) {
		f.resize(end)
	}
	copy(f.data[off:], data)
	f.markDirty(int(off))
	f.mtime = time.Now()
	if h, ok := fh.(*handle); ok && h.sync {
		f.sync()
	}
	return uint32(len(data)), 0
}

// resize truncates or extends data with zeros; f.mu is held.
func (f *fileNode) resize(size int) {
	switch {
	case size == len(f.data):
		return
	case size < len(f.data):
		f.markDirty(size)
		f.data = f.data[:size]
	default:
		f.markDirty(len(f.data))
		f.data = append(f.data, make([]byte, size-len(f.data))...)
	}
}

func (f *fileNode) markDirty(from int) {
	if f.dirty < 0 || from < f.dirty {
		f.dirty = from
	}
}

// sync makes data durable; f.mu is held.
func (f *fileNode) sync() {
	if f.dirty < 0 {
		return
	}
	keep := min(f.dirty, len(f.data), len(f.synced))
	f.synced = append(f.synced[:keep], f.data[keep:]...)
	f.dirty = -1
}

func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attr(&out.Attr)
	return 0
}

func (f *fileNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := f.power.check(); errno != 0 {
		return errno
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if size, ok := in.GetSize(); ok {
		f.resize(int(size))
		f.mtime = time.Now()
	}
	setModeAndTime(in, &f.mode, &f.mtime)
	f.attr(&out.Attr)
	return 0
}

// Fsync makes the file's data durable, and commits the journal.
func (f *fileNode) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f.mu.Lock()
	if errno := f.power.check(); errno != 0 {
		f.mu.Unlock()
		return errno
	}
	f.sync()
	f.mu.Unlock()
	return f.power.commit(f.Root())
}

func (f *fileNode) Flush(ctx context.Context, fh fs.FileHandle) syscall.Errno { return 0 }
