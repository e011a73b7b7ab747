/* The in-memory file system: a tree built from the cpio rootfs image, writable through copy-on-write. */
#include "vfs.h"

#include "clock.h"
#include "cpio.h"
#include "klib.h"
#include "linux.h"
#include "mm.h"
#include "uaccess.h"

#define MAKEDEV(ma, mi) ((uint64_t)(ma) << 8 | (uint64_t)(mi))

static struct vfs_node *root;
static struct vfs_node *cwd;
static struct vfs_node *console_nodes[3];
static uint64_t next_ino = 1;
static uint64_t bytes_used;
static int loading_readonly; /* building a read-only mount: new nodes are read-only, creating is allowed */
static int building;	     /* building a tree from an image: creating entries changes no times */

static int64_t now_ns(void)
{
	return clock_realtime_ns();
}

static struct vfs_node *node_new(uint32_t mode)
{
	struct vfs_node *n = kmalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->mode = mode;
	n->ino = next_ino++;
	n->readonly = (uint8_t)loading_readonly;
	n->atime_ns = n->mtime_ns = n->ctime_ns = now_ns();
	return n;
}

static void node_free(struct vfs_node *n)
{
	for (uint32_t i = 0; i < n->nents; i++)
		kfree(n->ents[i].name);
	kfree(n->ents);
	if (n->owned) {
		bytes_used -= n->cap;
		kfree(n->owned);
	}
	kfree(n);
}

/* Free a node nothing names or holds any more. */
static void node_release_if_unused(struct vfs_node *n)
{
	if (n->nlink == 0 && n->refs == 0)
		node_free(n);
}

void vfs_get(struct vfs_node *node)
{
	node->refs++;
}

void vfs_put(struct vfs_node *node)
{
	if (node->refs == 0)
		kpanic("vfs: reference count of inode %lu underflows", node->ino);
	node->refs--;
	node_release_if_unused(node);
}

struct vfs_node *vfs_root(void)
{
	return root;
}

struct vfs_node *vfs_cwd(void)
{
	return cwd;
}

void vfs_set_cwd(struct vfs_node *dir)
{
	vfs_get(dir);
	struct vfs_node *old = cwd;
	cwd = dir;
	if (old)
		vfs_put(old);
}

struct vfs_node *vfs_console_node(int fd)
{
	return fd >= 0 && fd < 3 ? console_nodes[fd] : NULL;
}

int vfs_console_index(const struct vfs_node *node)
{
	for (int i = 0; i < 3; i++)
		if (node && node == console_nodes[i])
			return i;
	return -1;
}

void vfs_touch(struct vfs_node *node)
{
	if (!building)
		node->mtime_ns = node->ctime_ns = now_ns();
}

void vfs_touch_status(struct vfs_node *node)
{
	if (!building)
		node->ctime_ns = now_ns();
}

uint64_t vfs_bytes_used(void)
{
	return bytes_used;
}

/* ---- directories ----------------------------------------------------------------------------- */

static int dir_index(const struct vfs_node *dir, const char *name, size_t len)
{
	for (uint32_t i = 0; i < dir->nents; i++) {
		const struct vfs_dirent *e = &dir->ents[i];
		if (e->name_len == len && memcmp(e->name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

struct vfs_node *vfs_dir_find(struct vfs_node *dir, const char *name, size_t len)
{
	int i = dir_index(dir, name, len);
	return i < 0 ? NULL : dir->ents[i].node;
}

/* Append an entry (the caller has checked that the name is free). Does not touch link counts. */
static int dir_add(struct vfs_node *dir, const char *name, size_t len, struct vfs_node *node)
{
	if (dir->nents == dir->ents_cap) {
		uint32_t cap = dir->ents_cap ? dir->ents_cap * 2 : 8;
		struct vfs_dirent *ents = kmalloc(cap * sizeof(*ents));
		if (!ents)
			return -ENOMEM;
		if (dir->nents)
			memcpy(ents, dir->ents, dir->nents * sizeof(*ents));
		kfree(dir->ents);
		dir->ents = ents;
		dir->ents_cap = cap;
	}
	char *copy = kmalloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, len);
	copy[len] = 0;
	struct vfs_dirent *e = &dir->ents[dir->nents++];
	e->name = copy;
	e->name_len = (uint32_t)len;
	e->seq = dir->next_seq++;
	e->node = node;
	return 0;
}

static void dir_remove_at(struct vfs_node *dir, uint32_t i)
{
	kfree(dir->ents[i].name);
	memmove(&dir->ents[i], &dir->ents[i + 1], (dir->nents - i - 1) * sizeof(dir->ents[0]));
	dir->nents--;
}

/* Drop one name of `node` (already taken out of `dir`'s entries). */
static void node_unlinked(struct vfs_node *dir, struct vfs_node *node)
{
	if (vfs_is_dir(node)) {
		dir->nsubdirs--;
		node->nlink = 0;
		node->parent = NULL;
	} else {
		node->nlink--;
	}
	vfs_touch_status(node);
	node_release_if_unused(node);
}

int vfs_dir_next(struct vfs_node *dir, uint64_t *pos, const char **name, size_t *len, struct vfs_node **node)
{
	if (*pos == 0) {
		*name = ".";
		*len = 1;
		*node = dir;
		*pos = 1;
		return 1;
	}
	if (*pos == 1) {
		*name = "..";
		*len = 2;
		*node = dir->parent ? dir->parent : dir;
		*pos = 2;
		return 1;
	}
	/* First entry with seq >= pos - 2 (entries are sorted by seq). */
	uint64_t want = *pos - 2;
	uint32_t lo = 0, hi = dir->nents;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (dir->ents[mid].seq < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= dir->nents)
		return 0;
	const struct vfs_dirent *e = &dir->ents[lo];
	*name = e->name;
	*len = e->name_len;
	*node = e->node;
	*pos = e->seq + 3;
	return 1;
}

long vfs_dir_path(struct vfs_node *dir, char *buf, size_t size)
{
	if (dir->nlink == 0)
		return -ENOENT;
	if (size < 2)
		return -ERANGE;
	/* Build the path right-aligned at the end of buf, then move it to the front. */
	size_t at = size - 1;
	buf[at] = 0;
	for (struct vfs_node *n = dir; n != root;) {
		struct vfs_node *p = n->parent;
		if (!p)
			return -ENOENT;
		const struct vfs_dirent *e = NULL;
		for (uint32_t i = 0; i < p->nents; i++)
			if (p->ents[i].node == n)
				e = &p->ents[i];
		if (!e)
			return -ENOENT;
		if (at < e->name_len + 1)
			return -ERANGE;
		at -= e->name_len;
		memcpy(buf + at, e->name, e->name_len);
		buf[--at] = '/';
		n = p;
	}
	if (at == size - 1)
		buf[--at] = '/';
	size_t len = size - 1 - at;
	memmove(buf, buf + at, len + 1);
	return (long)len;
}

/* ---- path resolution ------------------------------------------------------------------------- */

/* Resolve path[0..len) from `base`; `*links` counts symlinks followed so far. */
static int walk(struct vfs_node *base, const char *path, size_t len, unsigned flags, int *links,
		struct vfs_node **out)
{
	if (len == 0)
		return -ENOENT;
	struct vfs_node *cur = path[0] == '/' ? root : base;
	size_t i = 0;
	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		size_t clen = i - start;
		size_t j = i;
		while (j < len && path[j] == '/')
			j++;
		int last = j == len;
		int trailing = last && i < len;
		const char *comp = path + start;

		if (!vfs_is_dir(cur))
			return -ENOTDIR;
		if (clen > VFS_NAME_MAX)
			return -ENAMETOOLONG;
		struct vfs_node *next;
		if (clen == 1 && comp[0] == '.') {
			next = cur;
		} else if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			next = cur == root ? root : cur->parent;
			if (!next)
				return -ENOENT;
		} else {
			if (cur->nlink == 0)
				return -ENOENT;
			next = vfs_dir_find(cur, comp, clen);
			if (!next)
				return -ENOENT;
		}
		if (vfs_is_symlink(next) && (!last || trailing || (flags & VFS_FOLLOW))) {
			if (++*links > VFS_SYMLINK_MAX)
				return -ELOOP;
			int r = walk(cur, (const char *)next->data, next->size, VFS_FOLLOW, links, &next);
			if (r < 0)
				return r;
		}
		cur = next;
		if (trailing && !vfs_is_dir(cur))
			return -ENOTDIR;
	}
	*out = cur;
	return 0;
}

int vfs_lookup(struct vfs_node *base, const char *path, unsigned flags, struct vfs_node **out)
{
	size_t len = strnlen(path, VFS_PATH_MAX);
	if (len >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	int links = 0;
	return walk(base, path, len, flags, &links, out);
}

int vfs_lookup_last(struct vfs_node *base, const char *path, struct vfs_last *last)
{
	size_t len = strnlen(path, VFS_PATH_MAX);
	if (len >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT;
	size_t end = len;
	while (end > 0 && path[end - 1] == '/')
		end--;
	memset(last, 0, sizeof(*last));
	last->trailing_slash = end < len;
	if (end == 0) {
		last->dir = root;
		last->name = path;
		last->dot = 3;
		return 0;
	}
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	struct vfs_node *dir = base;
	if (start > 0) {
		int links = 0;
		int r = walk(base, path, start, VFS_FOLLOW, &links, &dir);
		if (r < 0)
			return r;
	}
	if (!vfs_is_dir(dir))
		return -ENOTDIR;
	last->dir = dir;
	last->name = path + start;
	last->len = end - start;
	if (last->len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (last->len == 1 && last->name[0] == '.')
		last->dot = 1;
	else if (last->len == 2 && last->name[0] == '.' && last->name[1] == '.')
		last->dot = 2;
	return 0;
}

/* ---- creating and removing names ------------------------------------------------------------- */

int vfs_create(struct vfs_node *dir, const char *name, size_t len, uint32_t mode, const char *target,
	       struct vfs_node **out)
{
	if (!vfs_is_dir(dir))
		return -ENOTDIR;
	if (dir->nlink == 0)
		return -ENOENT;
	if (len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (vfs_dir_find(dir, name, len))
		return -EEXIST;
	if (dir->readonly && !loading_readonly)
		return -EROFS;
	struct vfs_node *n = node_new(mode);
	if (!n)
		return -ENOSPC;
	if (vfs_is_symlink(n)) {
		size_t tlen = strlen(target);
		n->owned = kmalloc(tlen + 1);
		if (!n->owned) {
			node_free(n);
			return -ENOSPC;
		}
		memcpy(n->owned, target, tlen);
		n->data = n->owned;
		n->size = tlen;
		n->cap = tlen + 1;
		bytes_used += n->cap;
	}
	if (dir_add(dir, name, len, n) < 0) {
		node_free(n);
		return -ENOSPC;
	}
	n->nlink = 1;
	if (vfs_is_dir(n)) {
		n->parent = dir;
		dir->nsubdirs++;
	}
	vfs_touch(dir);
	*out = n;
	return 0;
}

struct vfs_node *vfs_new_unnamed(uint32_t mode)
{
	return node_new(S_IFREG | (mode & 07777));
}

int vfs_link(struct vfs_node *dir, const char *name, size_t len, struct vfs_node *node)
{
	if (vfs_is_dir(node))
		return -EPERM;
	if (dir->nlink == 0)
		return -ENOENT;
	if (len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (vfs_dir_find(dir, name, len))
		return -EEXIST;
	if (dir->readonly && !loading_readonly)
		return -EROFS;
	if (node->readonly != dir->readonly)
		return -EXDEV;
	if (dir_add(dir, name, len, node) < 0)
		return -ENOSPC;
	node->nlink++;
	vfs_touch_status(node);
	vfs_touch(dir);
	return 0;
}

int vfs_unlink(struct vfs_node *dir, const char *name, size_t len, int want_dir)
{
	if (dir->readonly && !loading_readonly)
		return -EROFS;
	int i = dir_index(dir, name, len);
	if (i < 0)
		return -ENOENT;
	struct vfs_node *n = dir->ents[i].node;
	if (n->mount_root)
		return want_dir ? -EBUSY : -EISDIR;
	if (want_dir) {
		if (!vfs_is_dir(n))
			return -ENOTDIR;
		if (n->nents)
			return -ENOTEMPTY;
		if (n == root)
			return -EBUSY;
	} else if (vfs_is_dir(n)) {
		return -EISDIR;
	}
	dir_remove_at(dir, (uint32_t)i);
	vfs_touch(dir);
	node_unlinked(dir, n);
	return 0;
}

/* True if `dir` is `anc` or lies below it. */
static int is_under(struct vfs_node *dir, struct vfs_node *anc)
{
	for (struct vfs_node *n = dir; n; n = n->parent) {
		if (n == anc)
			return 1;
		if (n == root)
			break;
	}
	return 0;
}

/* Move directory `n` from `from` to `to` (counts and parent pointer). */
static void dir_moved(struct vfs_node *n, struct vfs_node *from, struct vfs_node *to)
{
	if (!vfs_is_dir(n))
		return;
	from->nsubdirs--;
	to->nsubdirs++;
	n->parent = to;
}

int vfs_rename(struct vfs_node *odir, const char *oname, size_t olen, struct vfs_node *ndir,
	       const char *nname, size_t nlen, unsigned flags)
{
	if ((flags & VFS_RENAME_NOREPLACE) && (flags & VFS_RENAME_EXCHANGE))
		return -EINVAL;
	if (odir->readonly != ndir->readonly)
		return -EXDEV;
	if (odir->readonly)
		return -EROFS;
	if (ndir->nlink == 0 || odir->nlink == 0)
		return -ENOENT;
	if (nlen > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	int oi = dir_index(odir, oname, olen);
	if (oi < 0)
		return -ENOENT;
	struct vfs_node *on = odir->ents[oi].node;
	int ni = dir_index(ndir, nname, nlen);
	struct vfs_node *nn = ni < 0 ? NULL : ndir->ents[ni].node;
	if (on->mount_root || (nn && nn->mount_root))
		return -EBUSY;

	if (flags & VFS_RENAME_EXCHANGE) {
		if (!nn)
			return -ENOENT;
		if (nn == on)
			return 0;
		if ((vfs_is_dir(on) && is_under(ndir, on)) || (vfs_is_dir(nn) && is_under(odir, nn)))
			return -EINVAL;
		odir->ents[oi].node = nn;
		ndir->ents[ni].node = on;
		dir_moved(on, odir, ndir);
		dir_moved(nn, ndir, odir);
		vfs_touch(odir);
		vfs_touch(ndir);
		vfs_touch_status(on);
		vfs_touch_status(nn);
		return 0;
	}
	if (nn) {
		if (flags & VFS_RENAME_NOREPLACE)
			return -EEXIST;
		if (nn == on)
			return 0;
		if (vfs_is_dir(on)) {
			if (!vfs_is_dir(nn))
				return -ENOTDIR;
			if (nn->nents)
				return -ENOTEMPTY;
		} else if (vfs_is_dir(nn)) {
			return -EISDIR;
		}
	}
	if (vfs_is_dir(on) && is_under(ndir, on))
		return -EINVAL;

	if (nn) {
		ndir->ents[ni].node = on;
		dir_remove_at(odir, (uint32_t)oi);
		node_unlinked(ndir, nn);
	} else {
		if (dir_add(ndir, nname, nlen, on) < 0)
			return -ENOSPC;
		dir_remove_at(odir, (uint32_t)oi);
	}
	dir_moved(on, odir, ndir);
	vfs_touch(odir);
	vfs_touch(ndir);
	vfs_touch_status(on);
	return 0;
}

/* ---- file contents --------------------------------------------------------------------------- */

/* Give a regular file a kernel-owned buffer of at least `need` bytes holding its current contents. */
static int make_owned(struct vfs_node *n, uint64_t need)
{
	if (n->owned && n->cap >= need)
		return 0;
	uint64_t cap = n->cap ? n->cap : 64;
	while (cap < need)
		cap = cap < (1ull << 30) ? cap * 2 : cap + (1ull << 30);
	if (cap < n->size)
		cap = n->size;
	uint8_t *buf = kmalloc(cap);
	if (!buf)
		return -ENOSPC;
	if (n->size)
		memcpy(buf, n->data, n->size);
	if (n->owned) {
		bytes_used -= n->cap;
		kfree(n->owned);
	}
	n->owned = buf;
	n->data = buf;
	n->cap = cap;
	bytes_used += cap;
	return 0;
}

uint64_t vfs_read(struct vfs_node *node, void *buf, uint64_t len, uint64_t off)
{
	if (off >= node->size)
		return 0;
	uint64_t n = MIN(len, node->size - off);
	memcpy(buf, node->data + off, n);
	return n;
}

long vfs_write(struct vfs_node *node, const void *buf, uint64_t len, uint64_t off)
{
	if (node->readonly)
		return -EROFS;
	if (len == 0)
		return 0;
	if (off > VFS_FILE_MAX || len > VFS_FILE_MAX - off)
		return -EFBIG;
	uint64_t end = off + len;
	int r = make_owned(node, MAX(end, node->size));
	if (r < 0)
		return r;
	if (off > node->size)
		memset(node->owned + node->size, 0, off - node->size);
	memmove(node->owned + off, buf, len);
	if (end > node->size)
		node->size = end;
	vfs_touch(node);
	return (long)len;
}

int vfs_truncate(struct vfs_node *node, uint64_t size)
{
	if (node->readonly)
		return -EROFS;
	if (size > VFS_FILE_MAX)
		return -EFBIG;
	if (size == 0 && node->owned) {
		bytes_used -= node->cap;
		kfree(node->owned);
		node->owned = NULL;
		node->data = NULL;
		node->cap = 0;
	} else if (size > node->size) {
		int r = make_owned(node, size);
		if (r < 0)
			return r;
		memset(node->owned + node->size, 0, size - node->size);
	}
	/* Shrinking an image file keeps pointing into the image. */
	node->size = size;
	if (size == 0 && !node->owned)
		node->data = NULL;
	vfs_touch(node);
	return 0;
}

void vfs_stat(const struct vfs_node *n, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = n->readonly ? VFS_RO_DEV_ID : VFS_DEV_ID;
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_rdev = n->rdev;
	st->st_blksize = 4096;
	if (vfs_is_dir(n)) {
		st->st_nlink = n->nlink ? 2 + n->nsubdirs : 0;
		st->st_size = 4096;
		st->st_blocks = 8;
	} else {
		st->st_nlink = n->nlink;
		if (vfs_is_reg(n) || vfs_is_symlink(n))
			st->st_size = (int64_t)n->size;
		if (vfs_is_reg(n))
			st->st_blocks = (int64_t)(ALIGN_UP(n->size, 4096) / 512);
	}
	st->st_atim.tv_sec = n->atime_ns / 1000000000;
	st->st_atim.tv_nsec = n->atime_ns % 1000000000;
	st->st_mtim.tv_sec = n->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = n->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = n->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = n->ctime_ns % 1000000000;
}

/* ---- building the tree ----------------------------------------------------------------------- */

/* Nodes of the image whose cpio nlink > 1, to join later entries with the same ino. */
struct hardlink {
	struct hardlink *next;
	struct vfs_node *node;
};

static struct vfs_node *find_hardlink(struct hardlink *list, uint32_t ino)
{
	for (; list; list = list->next)
		if (list->node->cpio_ino == ino)
			return list->node;
	return NULL;
}

/* Directory `name` in `dir`, created with `mode` if missing. NULL if something else has the name. */
static struct vfs_node *ensure_dir(struct vfs_node *dir, const char *name, size_t len, uint32_t mode)
{
	struct vfs_node *n = vfs_dir_find(dir, name, len);
	if (n)
		return vfs_is_dir(n) ? n : NULL;
	if (vfs_create(dir, name, len, S_IFDIR | mode, NULL, &n) < 0)
		return NULL;
	return n;
}

/* Remove whatever non-directory or empty directory is named name[len] in dir. */
static void remove_name(struct vfs_node *dir, const char *name, size_t len)
{
	struct vfs_node *n = vfs_dir_find(dir, name, len);
	if (n)
		vfs_unlink(dir, name, len, vfs_is_dir(n));
}

/* Remove name[len] from dir unless it is a directory (the kernel owns /dev and /proc). */
static void remove_non_dir(struct vfs_node *dir, const char *name, size_t len)
{
	struct vfs_node *n = vfs_dir_find(dir, name, len);
	if (n && !vfs_is_dir(n))
		vfs_unlink(dir, name, len, 0);
}

/* Add one archive entry; `name` is already normalised (no leading "./" or "/", not empty). */
static int add_image_entry(struct vfs_node *base, const struct mote_cpio_entry *e, const char *name,
			   size_t len, struct hardlink **links)
{
	struct vfs_node *dir = base;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && name[i] != '/')
			i++;
		size_t clen = i - start;
		const char *comp = name + start;
		int last = i == len;
		while (i < len && name[i] == '/')
			i++;
		if (i == len)
			last = 1;
		if (clen > VFS_NAME_MAX || (clen == 2 && comp[0] == '.' && comp[1] == '.'))
			return -EINVAL;
		if (clen == 0 || (clen == 1 && comp[0] == '.')) {
			if (last)
				return 0;
			continue;
		}
		if (!last) {
			dir = ensure_dir(dir, comp, clen, 0755);
			if (!dir)
				return -EINVAL;
			continue;
		}

		uint32_t type = e->mode & S_IFMT;
		uint32_t perm = e->mode & 07777;
		int64_t mtime = (int64_t)e->mtime * 1000000000;
		struct vfs_node *n = vfs_dir_find(dir, comp, clen);
		if (type == S_IFDIR) {
			if (n && !vfs_is_dir(n)) {
				remove_name(dir, comp, clen);
				n = NULL;
			}
			if (!n && vfs_create(dir, comp, clen, S_IFDIR | perm, NULL, &n) < 0)
				return -ENOMEM;
			n->mode = S_IFDIR | perm;
			n->uid = e->uid;
			n->gid = e->gid;
			n->atime_ns = n->mtime_ns = n->ctime_ns = mtime;
			return 0;
		}
		if (type != S_IFREG && type != S_IFLNK)
			return 0; /* devices, fifos, sockets: the kernel provides its own /dev */
		if (type == S_IFLNK && (e->size == 0 || e->size >= VFS_PATH_MAX))
			return -EINVAL;
		if (n) {
			if (vfs_is_dir(n) && n->nents)
				return -EINVAL;
			remove_name(dir, comp, clen);
		}
		struct vfs_node *same =
		    type == S_IFREG && e->nlink > 1 ? find_hardlink(*links, e->ino) : NULL;
		if (same) {
			if (vfs_link(dir, comp, clen, same) < 0)
				return -ENOMEM;
			n = same;
		} else {
			n = node_new(type | perm);
			if (!n || dir_add(dir, comp, clen, n) < 0) {
				if (n)
					node_free(n);
				return -ENOMEM;
			}
			n->nlink = 1;
			n->cpio_ino = e->ino;
			if (type == S_IFREG && e->nlink > 1) {
				struct hardlink *h = kmalloc(sizeof(*h));
				if (!h)
					return -ENOMEM;
				h->node = n;
				h->next = *links;
				*links = h;
			}
		}
		/* newc stores a hard-linked file's data with one of its names only (usually the last). */
		if (e->size || !same) {
			n->data = e->size ? e->data : NULL;
			n->size = e->size;
		}
		n->uid = e->uid;
		n->gid = e->gid;
		n->atime_ns = n->mtime_ns = n->ctime_ns = mtime;
		return 0;
	}
}

/* Build the tree of `image` below directory `base` (the root, or a mount's root). */
static int load_image(struct vfs_node *base, const void *image, uint64_t size)
{
	struct hardlink *links = NULL;
	size_t off = 0;
	int ret = 0;
	for (;;) {
		struct mote_cpio_entry e;
		int r = mote_cpio_next(image, size, &off, &e);
		if (r == MOTE_CPIO_END)
			break;
		if (r != MOTE_CPIO_ENTRY) {
			ret = -EINVAL;
			break;
		}
		const char *name = e.name;
		size_t len = e.name_len;
		if (strnlen(name, len) != len) {
			ret = -EINVAL;
			break;
		}
		/* Normalise "./x", "/x" and "." (the root itself). */
		for (;;) {
			if (len && name[0] == '/') {
				name++;
				len--;
			} else if (len >= 2 && name[0] == '.' && name[1] == '/') {
				name += 2;
				len -= 2;
			} else {
				break;
			}
		}
		if (len == 0 || (len == 1 && name[0] == '.')) {
			if ((e.mode & S_IFMT) == S_IFDIR) {
				base->mode = S_IFDIR | (e.mode & 07777);
				base->atime_ns = base->mtime_ns = base->ctime_ns =
				    (int64_t)e.mtime * 1000000000;
			}
			continue;
		}
		ret = add_image_entry(base, &e, name, len, &links);
		if (ret < 0)
			break;
	}
	while (links) {
		struct hardlink *next = links->next;
		kfree(links);
		links = next;
	}
	return ret;
}

static int add_device(struct vfs_node *dev, const char *name, enum vfs_dev_kind kind, uint32_t perm,
		      uint64_t rdev)
{
	struct vfs_node *n;
	remove_name(dev, name, strlen(name));
	int r = vfs_create(dev, name, strlen(name), S_IFCHR | perm, NULL, &n);
	if (r < 0)
		return r;
	n->dev = kind;
	n->rdev = rdev;
	return 0;
}

static int add_system_tree(const char *exec_path)
{
	/* /tmp is left alone when the image makes it something else (e.g. a symlink). */
	struct vfs_node *tmp = vfs_dir_find(root, "tmp", 3);
	if (!tmp && !ensure_dir(root, "tmp", 3, 01777))
		return -ENOMEM;

	remove_non_dir(root, "dev", 3);
	struct vfs_node *dev = ensure_dir(root, "dev", 3, 0755);
	if (!dev)
		return -EINVAL;
	static const struct {
		const char *name;
		enum vfs_dev_kind kind;
		uint32_t perm;
		uint64_t rdev;
	} devices[] = {
	    {"null", VFS_DEV_NULL, 0666, MAKEDEV(1, 3)},
	    {"zero", VFS_DEV_ZERO, 0666, MAKEDEV(1, 5)},
	    {"full", VFS_DEV_FULL, 0666, MAKEDEV(1, 7)},
	    {"random", VFS_DEV_RANDOM, 0666, MAKEDEV(1, 8)},
	    {"urandom", VFS_DEV_RANDOM, 0666, MAKEDEV(1, 9)},
	    {"console", VFS_DEV_CONSOLE_OUT, 0620, MAKEDEV(5, 1)},
	    {"stdin", VFS_DEV_STDIN, 0620, MAKEDEV(5, 1)},
	    {"stdout", VFS_DEV_STDOUT, 0620, MAKEDEV(5, 1)},
	    {"stderr", VFS_DEV_STDERR, 0620, MAKEDEV(5, 1)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		int r = add_device(dev, devices[i].name, devices[i].kind, devices[i].perm, devices[i].rdev);
		if (r < 0)
			return r;
	}
	if (!ensure_dir(dev, "shm", 3, 01777))
		return -EINVAL;
	remove_non_dir(dev, "mote", 4);
	struct vfs_node *mote = ensure_dir(dev, "mote", 4, 0755);
	if (!mote)
		return -EINVAL;
	int r = add_device(mote, "snapshot", VFS_DEV_SNAPSHOT, 0222, MAKEDEV(10, 240));
	if (r < 0 || (r = add_device(mote, "generation", VFS_DEV_GENERATION, 0444, MAKEDEV(10, 241))) < 0 ||
	    (r = add_device(mote, "invoke", VFS_DEV_INVOKE, 0600, MAKEDEV(10, 242))) < 0)
		return r;

	remove_non_dir(root, "proc", 4);
	struct vfs_node *proc = ensure_dir(root, "proc", 4, 0555);
	struct vfs_node *self = proc ? ensure_dir(proc, "self", 4, 0555) : NULL;
	if (!self)
		return -EINVAL;
	if (exec_path && exec_path[0]) {
		char *target = kmalloc(strlen(exec_path) + 2);
		if (!target)
			return -ENOMEM;
		ksnprintf(target, strlen(exec_path) + 2, "%s%s", exec_path[0] == '/' ? "" : "/", exec_path);
		struct vfs_node *exe;
		remove_name(self, "exe", 3);
		r = vfs_create(self, "exe", 3, S_IFLNK | 0777, target, &exe);
		kfree(target);
		if (r < 0)
			return r;
	}
	return 0;
}

int vfs_init(const void *image, uint64_t size, const char *exec_path)
{
	root = node_new(S_IFDIR | 0755);
	if (!root)
		return -ENOMEM;
	root->parent = root;
	root->nlink = 1;
	root->refs = 1; /* never freed */
	cwd = NULL;
	vfs_set_cwd(root);

	static const enum vfs_dev_kind console_kinds[3] = {VFS_DEV_CONSOLE_IN, VFS_DEV_CONSOLE_OUT,
							   VFS_DEV_CONSOLE_ERR};
	/* fstat on them shows what the host's stdio is instead (fd_stat, tty.c). */
	for (int i = 0; i < 3; i++) {
		struct vfs_node *n = node_new(S_IFCHR | 0666);
		if (!n)
			return -ENOMEM;
		n->dev = console_kinds[i];
		n->rdev = MAKEDEV(1, 3);
		n->nlink = 1;
		n->refs = 1;
		console_nodes[i] = n;
	}

	/*
	 * Building the tree touches no parent: a directory keeps the image's
	 * times although its entries are added after it (and /tmp, /dev, /proc
	 * are added to the root). A directory the image does not list, implied by
	 * a path, keeps the time it was made.
	 */
	building = 1;
	int r = image && size ? load_image(root, image, size) : 0;
	if (r == 0 && image && size)
		user_set_readonly(image, size);
	if (r == 0)
		r = add_system_tree(exec_path);
	building = 0;
	return r;
}

int vfs_map_file(const char *path, const void **data, uint64_t *size)
{
	struct vfs_node *n;
	int r = vfs_lookup(cwd ? cwd : root, path, VFS_FOLLOW, &n);
	if (r < 0)
		return r;
	if (vfs_is_dir(n))
		return -EISDIR;
	if (!vfs_is_reg(n))
		return -EACCES;
	*data = n->data;
	*size = n->size;
	return 0;
}

/* ---- read-only mounts ------------------------------------------------------------------------ */

/* Deeper trees are not compared (a remount then) nor taken apart node by node (left allocated). */
#define TREE_DEPTH_MAX 128

/* True if the two trees hold the same names, types, modes, owners, sizes, times and data addresses. */
static int same_tree(const struct vfs_node *a, const struct vfs_node *b, int depth)
{
	if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->size != b->size ||
	    a->data != b->data || a->mtime_ns != b->mtime_ns || a->nents != b->nents)
		return 0;
	if (vfs_is_dir(a) && depth >= TREE_DEPTH_MAX)
		return 0;
	for (uint32_t i = 0; i < a->nents; i++) {
		const struct vfs_dirent *x = &a->ents[i], *y = &b->ents[i];
		if (x->name_len != y->name_len || memcmp(x->name, y->name, x->name_len) != 0 ||
		    !same_tree(x->node, y->node, depth + 1))
			return 0;
	}
	return 1;
}

/*
 * Take every name out of the tree below `dir` (a mount being dropped), so that
 * each node is freed now or, when an open file or the cwd holds it, when that
 * goes. Deeper levels than TREE_DEPTH_MAX are left allocated.
 */
static void detach_tree(struct vfs_node *dir, int depth)
{
	while (dir->nents) {
		struct vfs_node *c = dir->ents[dir->nents - 1].node;
		dir_remove_at(dir, dir->nents - 1);
		if (vfs_is_dir(c)) {
			if (depth < TREE_DEPTH_MAX)
				detach_tree(c, depth + 1);
			c->nlink = 0;
			c->parent = NULL;
		} else {
			c->nlink--;
		}
		node_release_if_unused(c);
	}
}

/* Drop the mount rooted at `m` (already out of the root's entries). */
static void drop_mount(struct vfs_node *m)
{
	detach_tree(m, 0);
	m->nlink = 0;
	m->parent = NULL;
	node_release_if_unused(m);
}

int vfs_mount_image(const char *name, const void *image, uint64_t size)
{
	size_t len = strlen(name);
	struct vfs_node *m = node_new(S_IFDIR | 0755);
	if (!m)
		return -ENOMEM;
	m->readonly = 1;
	m->mount_root = 1;
	m->parent = root;
	m->nlink = 1;
	loading_readonly = building = 1;
	int r = load_image(m, image, size);
	loading_readonly = building = 0;
	if (r < 0) {
		drop_mount(m);
		return r;
	}
	int i = dir_index(root, name, len);
	struct vfs_node *old = i < 0 ? NULL : root->ents[i].node;
	if (old && old->mount_root && same_tree(old, m, 0)) {
		drop_mount(m);
		return 1;
	}
	if (i >= 0) {
		root->ents[i].node = m;
		if (old->mount_root)
			drop_mount(old); /* a previous bundle's tree */
		else if (!vfs_is_dir(old))
			root->nsubdirs++; /* what the rootfs had there is hidden, not freed */
	} else if (dir_add(root, name, len, m) < 0) {
		drop_mount(m);
		return -ENOMEM;
	} else {
		root->nsubdirs++;
	}
	return 0;
}

void vfs_unmount(const char *name)
{
	int i = dir_index(root, name, strlen(name));
	if (i < 0 || !root->ents[i].node->mount_root)
		return;
	struct vfs_node *m = root->ents[i].node;
	dir_remove_at(root, (uint32_t)i);
	root->nsubdirs--;
	drop_mount(m);
}

int vfs_set_exe(const char *path)
{
	struct vfs_node *proc = vfs_dir_find(root, "proc", 4);
	struct vfs_node *self = proc && vfs_is_dir(proc) ? vfs_dir_find(proc, "self", 4) : NULL;
	if (!self || !vfs_is_dir(self))
		return -ENOENT;
	struct vfs_node *exe;
	remove_name(self, "exe", 3);
	return vfs_create(self, "exe", 3, S_IFLNK | 0777, path, &exe) < 0 ? -ENOMEM : 0;
}

long vfs_real_path(struct vfs_node *base, const char *path, char *buf, size_t size)
{
	static char cur[VFS_PATH_MAX];
	size_t plen = strnlen(path, VFS_PATH_MAX);
	if (plen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(cur, path, plen + 1);
	for (int links = 0; links <= VFS_SYMLINK_MAX; links++) {
		struct vfs_last l;
		int r = vfs_lookup_last(base, cur, &l);
		if (r < 0)
			return r;
		if (l.dot)
			return -EISDIR;
		struct vfs_node *n = vfs_dir_find(l.dir, l.name, l.len);
		if (!n)
			return -ENOENT;
		if (vfs_is_symlink(n)) {
			memcpy(cur, n->data, n->size);
			cur[n->size] = 0;
			base = l.dir;
			continue;
		}
		long dlen = vfs_dir_path(l.dir, buf, size);
		if (dlen < 0)
			return dlen;
		size_t at = dlen == 1 ? 0 : (size_t)dlen; /* "/" + name, not "//" + name */
		if (at + 1 + l.len + 1 > size)
			return -ERANGE;
		buf[at] = '/';
		memmove(buf + at + 1, l.name, l.len);
		buf[at + 1 + l.len] = 0;
		return (long)(at + 1 + l.len);
	}
	return -ELOOP;
}
