/* inode: the inodes the kernel holds, for the low-level FUSE API. An inode
 * is a name in a parent inode, with the count of lookups the kernel made
 * (it sends FORGET for them) and of open handles. Paths are built from the
 * chain of names, so everything below fs works on paths. The table is
 * bounded by asking the kernel to forget the least recently used entries
 * (inode_victims); nothing here talks to FUSE. Thread-safe. */
#ifndef ZOOMFS_INODE_H
#define ZOOMFS_INODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INODE_ROOT 1

typedef struct InodeTable InodeTable;

InodeTable *inode_table_new(void);
void inode_table_free(InodeTable *t);

/* The path of ino ("/users/a@b.c"), malloc'd; NULL when ino is unknown. */
char *inode_path(InodeTable *t, uint64_t ino);
/* The path of name in parent, malloc'd; NULL when parent is unknown. */
char *inode_child_path(InodeTable *t, uint64_t parent, const char *name);

/* The kernel learnt the entry name in parent (a lookup, create, mkdir):
 * its inode, made when new, with one more lookup. 0 when parent is
 * unknown. */
uint64_t inode_learn(InodeTable *t, uint64_t parent, const char *name);
/* The inode of name in parent, if the table has it (0 otherwise). */
uint64_t inode_find(InodeTable *t, uint64_t parent, const char *name);
/* The inode of a path, if the table has it (0 otherwise). */
uint64_t inode_of_path(InodeTable *t, const char *path);

/* The kernel forgot n lookups of ino: freed when none is left, no handle
 * is open and no child remains. */
void inode_forget(InodeTable *t, uint64_t ino, uint64_t n);
/* Open handles keep an inode while the kernel forgets it. */
void inode_opened(InodeTable *t, uint64_t ino);
void inode_closed(InodeTable *t, uint64_t ino);

/* The entry is gone (unlink, rmdir) or moved (rename): later lookups of
 * the old name make a new inode; the inode itself lives until forgotten. */
void inode_unlink(InodeTable *t, uint64_t parent, const char *name);
void inode_move(InodeTable *t, uint64_t parent, const char *name, uint64_t newparent,
                const char *newname);

size_t inode_count(InodeTable *t);

/* Up to max entries to ask the kernel to forget so that the table shrinks
 * to `keep`: the least recently used inodes that have no children and no
 * open handle. Each victim is (parent, name) with name malloc'd. Returns
 * how many. */
typedef struct {
    uint64_t parent;
    char *name;
} InodeVictim;
size_t inode_victims(InodeTable *t, size_t keep, InodeVictim *out, size_t max);

/* Calls fn(ino) for every inode (a refresh invalidates them all). */
void inode_each(InodeTable *t, void (*fn)(uint64_t ino, void *ctx), void *ctx);

#endif
