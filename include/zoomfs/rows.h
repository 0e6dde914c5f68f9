/* rows: the table of the whole tree, one row per kind of node (see tree.h
 * for what a row holds). docs/tree.md documents every row; a unit test
 * checks that it does and that every pattern parses. */
#ifndef ZOOMFS_ROWS_H
#define ZOOMFS_ROWS_H

#include "zoomfs/tree.h"

extern const Row rows[];
extern const size_t nrows;

/* tree_parse over the table. */
int rows_parse(const char *path, TreePath *out);

#endif
