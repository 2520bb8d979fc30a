/*
 * h5: HDF5 datasets (see h5.h).
 *
 * The library is opened with dlopen at the first operation (pthread_once)
 * and called through the table 'lib', resolved with dlsym: linked, it
 * brought ~36 more shared libraries (curl, ssl, krb5, ...) into every
 * process, ~5 ms of dynamic linking at each start.  DUSK_HDF5=none makes
 * it unavailable, DUSK_HDF5=FILE opens FILE instead of Debian's sonames.
 * The ids hdf5.h's H5T_NATIVE_DOUBLE, H5P_DATASET_CREATE... name are
 * variables of the library that H5open sets: the table holds their
 * values, read after H5open.  Without the library, every operation is an
 * error saying why, and nothing else changes.
 *
 * Each operation takes the process's HDF5 mutex, turns off the library's
 * printing of its error stack (errors become messages: the innermost
 * entry of the stack names the cause), opens the file and the dataset,
 * does its one read or write and closes everything before it lets go.
 * Files are never kept open between operations, so any number of tasks
 * may read one file, and a commit renames a closed file.  HDF5 converts
 * byte orders and integer widths itself; dusk asks for its own dtype in
 * native order.
 */
#include "array/h5.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array/abox.h"
#include "array/afile.h"
#include "base/alloc.h"

/* hdf5.h's H5F_ACC_* flags call H5check() and H5open(): the version
 * check and the start load() makes once.  Plain constants here. */
#undef H5CHECK
#define H5CHECK
#undef H5OPEN
#define H5OPEN

/* The functions h5.c calls, each with the prototype hdf5.h gives it. */
#define LIB_FUNCTIONS(X)                                                                     \
  X(H5open) X(H5get_libversion) X(H5Eset_auto2) X(H5Eclear2) X(H5Ewalk2)                     \
  X(H5Fopen) X(H5Fcreate) X(H5Fclose)                                                        \
  X(H5Dopen2) X(H5Dcreate2) X(H5Dread) X(H5Dwrite) X(H5Dget_type) X(H5Dget_space)           \
  X(H5Dget_create_plist) X(H5Dclose)                                                         \
  X(H5Screate) X(H5Screate_simple) X(H5Sselect_hyperslab) X(H5Sget_simple_extent_type)       \
  X(H5Sget_simple_extent_ndims) X(H5Sget_simple_extent_dims) X(H5Sclose)                     \
  X(H5Tcopy) X(H5Tenum_create) X(H5Tenum_insert) X(H5Tenum_valueof) X(H5Tget_size)           \
  X(H5Tget_class) X(H5Tget_sign) X(H5Tget_nmembers) X(H5Tclose)                              \
  X(H5Pcreate) X(H5Pset_chunk) X(H5Pset_create_intermediate_group) X(H5Pget_layout)          \
  X(H5Pget_chunk) X(H5Pclose) X(H5Fis_hdf5) X(H5Oexists_by_name) X(H5Ldelete)

/* The library's type ids of each numeric dtype: native (in memory) and
 * little-endian (in files). */
static const char *const type_vars[BUF_NDTYPES][2] = {
  [BUF_INT8] = {"H5T_NATIVE_INT8_g", "H5T_STD_I8LE_g"},
  [BUF_INT16] = {"H5T_NATIVE_INT16_g", "H5T_STD_I16LE_g"},
  [BUF_INT32] = {"H5T_NATIVE_INT32_g", "H5T_STD_I32LE_g"},
  [BUF_INT64] = {"H5T_NATIVE_INT64_g", "H5T_STD_I64LE_g"},
  [BUF_UINT8] = {"H5T_NATIVE_UINT8_g", "H5T_STD_U8LE_g"},
  [BUF_UINT16] = {"H5T_NATIVE_UINT16_g", "H5T_STD_U16LE_g"},
  [BUF_UINT32] = {"H5T_NATIVE_UINT32_g", "H5T_STD_U32LE_g"},
  [BUF_UINT64] = {"H5T_NATIVE_UINT64_g", "H5T_STD_U64LE_g"},
  [BUF_FLOAT32] = {"H5T_NATIVE_FLOAT_g", "H5T_IEEE_F32LE_g"},
  [BUF_FLOAT64] = {"H5T_NATIVE_DOUBLE_g", "H5T_IEEE_F64LE_g"},
};

static struct {
#define FIELD(f) __typeof__(f) *f;
  LIB_FUNCTIONS(FIELD)
#undef FIELD
  hid_t type[BUF_NDTYPES][2];      /* as type_vars */
  hid_t dataset_create, link_create;   /* property list classes */
  int ok;
  char why[200];                   /* when not ok */
} lib;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static const char *const sonames[] = {
  "libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5_serial.so", "libhdf5.so",
};

/* Global, as when it was linked: filter plugins the library loads may
 * take its symbols from the process.  The first soname's dlerror says
 * why none opened. */
static void *open_hdf5(void) {
  const char *forced = getenv("DUSK_HDF5");
  if (forced != NULL && strcmp(forced, "none") == 0) {
    snprintf(lib.why, sizeof lib.why, "DUSK_HDF5=none");
    return NULL;
  }
  if (forced != NULL && *forced != '\0') {
    void *h = dlopen(forced, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) snprintf(lib.why, sizeof lib.why, "%s", dlerror());
    return h;
  }
  for (size_t i = 0; i < sizeof sonames / sizeof sonames[0]; i++) {
    void *h = dlopen(sonames[i], RTLD_NOW | RTLD_GLOBAL);
    if (h != NULL) return h;
    if (i == 0) snprintf(lib.why, sizeof lib.why, "%s (apt-get install libhdf5-103-1)", dlerror());
  }
  return NULL;
}

/* The address of the library's variable 'name', or NULL with the reason. */
static const hid_t *var(void *h, const char *name) {
  const hid_t *p = dlsym(h, name);
  if (p == NULL) snprintf(lib.why, sizeof lib.why, "%s", dlerror());
  return p;
}

/* Resolves everything, then checks the version hdf5.h is of (its structs
 * are the library's) and starts the library.  A library missing a
 * symbol is closed; once called it stays, as it may have registered its
 * atexit handler. */
static void load(void) {
  void *h = open_hdf5();
  if (h == NULL) return;
  const hid_t *types[BUF_NDTYPES][2] = {{NULL}}, *dcpl = NULL, *lcpl = NULL;
  int found = 1;
#define RESOLVE(f) found = found && (lib.f = (__typeof__(lib.f))dlsym(h, #f)) != NULL;
  LIB_FUNCTIONS(RESOLVE)
#undef RESOLVE
  if (!found) snprintf(lib.why, sizeof lib.why, "%s", dlerror());
  for (int d = 0; found && d < BUF_NDTYPES; d++)
    for (int f = 0; found && type_vars[d][0] != NULL && f < 2; f++)
      found = (types[d][f] = var(h, type_vars[d][f])) != NULL;
  found = found && (dcpl = var(h, "H5P_CLS_DATASET_CREATE_ID_g")) != NULL &&
          (lcpl = var(h, "H5P_CLS_LINK_CREATE_ID_g")) != NULL;
  if (!found) {
    dlclose(h);
    return;
  }
  unsigned major = 0, minor = 0, release = 0;
  if (lib.H5get_libversion(&major, &minor, &release) < 0 || major != H5_VERS_MAJOR ||
      minor != H5_VERS_MINOR) {
    snprintf(lib.why, sizeof lib.why, "the library is HDF5 %u.%u.%u, dusk was built for %d.%d", major,
             minor, release, H5_VERS_MAJOR, H5_VERS_MINOR);
    return;
  }
  if (lib.H5open() < 0) {
    snprintf(lib.why, sizeof lib.why, "H5open failed");
    return;
  }
  for (int d = 0; d < BUF_NDTYPES; d++)
    for (int f = 0; type_vars[d][0] != NULL && f < 2; f++) lib.type[d][f] = *types[d][f];
  lib.dataset_create = *dcpl, lib.link_create = *lcpl;
  lib.ok = 1;
}

/* 0 once the library is loaded, else the error naming 'path'. */
static int available(const char *path, char *err) {
  pthread_once(&lib_once, load);
  return lib.ok ? 0 : afile_err(err, path, "HDF5 is not available: %s", lib.why);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  hid_t file, ds, space, mspace, type, mtype, plist, lcpl;
} ids;

#define IDS_NONE {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, \
                  H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID}

static void begin(void) {
  pthread_mutex_lock(&lock);
  lib.H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void end(ids *h) {
  if (h->ds >= 0) lib.H5Dclose(h->ds);
  if (h->space >= 0) lib.H5Sclose(h->space);
  if (h->mspace >= 0) lib.H5Sclose(h->mspace);
  if (h->type >= 0) lib.H5Tclose(h->type);
  if (h->mtype >= 0) lib.H5Tclose(h->mtype);
  if (h->plist >= 0) lib.H5Pclose(h->plist);
  if (h->lcpl >= 0) lib.H5Pclose(h->lcpl);
  if (h->file >= 0) lib.H5Fclose(h->file);
  lib.H5Eclear2(H5E_DEFAULT);
  pthread_mutex_unlock(&lock);
}

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *ud) {
  if (n == 0 && e->desc != NULL) snprintf(ud, 200, "%s", e->desc);
  return 0;
}

/* "PATH: 'what' (the library's reason)". */
static int fail(char *err, const char *path, const char *what) {
  char why[200] = "";
  lib.H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why);
  return afile_err(err, path, "%s%s%s%s", what, *why ? " (" : "", why, *why ? ")" : "");
}

/* h5py's booleans: an enum of int8 FALSE = 0, TRUE = 1. */
static hid_t bool_type(void) {
  hid_t t = lib.H5Tenum_create(lib.type[BUF_INT8][0]);
  int8_t no = 0, yes = 1;
  if (t >= 0 &&
      (lib.H5Tenum_insert(t, "FALSE", &no) < 0 || lib.H5Tenum_insert(t, "TRUE", &yes) < 0)) {
    lib.H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* The memory type of 'dtype' to give H5Dread and H5Dwrite (a new one for
 * bool: close it), or for 'file' the little-endian type to store. */
static hid_t type_of(int dtype, int file) {
  if (dtype == BUF_BOOL) return bool_type();
  if (dtype < 0 || dtype >= BUF_NDTYPES || type_vars[dtype][0] == NULL) return H5I_INVALID_HID;
  return lib.H5Tcopy(lib.type[dtype][file != 0]);
}

/* The dtype of the HDF5 type 't', or -1. */
static int dtype_of(hid_t t) {
  size_t size = lib.H5Tget_size(t);
  switch (lib.H5Tget_class(t)) {
  case H5T_INTEGER: {
    int s = lib.H5Tget_sign(t) == H5T_SGN_2;
    switch (size) {
    case 1: return s ? BUF_INT8 : BUF_UINT8;
    case 2: return s ? BUF_INT16 : BUF_UINT16;
    case 4: return s ? BUF_INT32 : BUF_UINT32;
    case 8: return s ? BUF_INT64 : BUF_UINT64;
    }
    return -1;
  }
  case H5T_FLOAT: return size == 8 ? BUF_FLOAT64 : size == 4 ? BUF_FLOAT32 : -1;
  case H5T_ENUM: {
    int8_t no = -1, yes = -1;
    if (size != 1 || lib.H5Tget_nmembers(t) != 2 || lib.H5Tenum_valueof(t, "FALSE", &no) < 0 ||
        lib.H5Tenum_valueof(t, "TRUE", &yes) < 0 || no != 0 || yes != 1)
      return -1;
    return BUF_BOOL;
  }
  default: return -1;
  }
}

/* Opens 'dataset' of 'path' (with 'flags') and reads its type and
 * extent into 'info'; under the lock. */
static int open_ds(ids *h, const char *path, const char *dataset, unsigned flags, h5_info *info, char *err) {
  char what[AFILE_ERRLEN];
  memset(info, 0, sizeof *info);
  if ((h->file = lib.H5Fopen(path, flags, H5P_DEFAULT)) < 0)
    return fail(err, path, "cannot open as an HDF5 file");
  if ((h->ds = lib.H5Dopen2(h->file, dataset, H5P_DEFAULT)) < 0) {
    snprintf(what, sizeof what, "no dataset '%s'", dataset);
    return fail(err, path, what);
  }
  if ((h->type = lib.H5Dget_type(h->ds)) < 0 || (h->space = lib.H5Dget_space(h->ds)) < 0 ||
      (h->plist = lib.H5Dget_create_plist(h->ds)) < 0)
    return fail(err, path, "cannot read the dataset's header");
  if ((info->dtype = dtype_of(h->type)) < 0)
    return afile_err(err, path, "dataset '%s' has a type dusk has no dtype for", dataset);
  H5S_class_t sc = lib.H5Sget_simple_extent_type(h->space);
  int nd = lib.H5Sget_simple_extent_ndims(h->space);
  if ((sc != H5S_SIMPLE && sc != H5S_SCALAR) || nd < 0 || nd > BUF_MAXDIM)
    return afile_err(err, path, "dataset '%s' has no array shape", dataset);
  hsize_t dims[BUF_MAXDIM], cdims[BUF_MAXDIM];
  lib.H5Sget_simple_extent_dims(h->space, dims, NULL);
  info->ndim = nd;
  for (int d = 0; d < nd; d++) info->shape[d] = (int64_t)dims[d];
  if (lib.H5Pget_layout(h->plist) == H5D_CHUNKED && lib.H5Pget_chunk(h->plist, nd, cdims) == nd) {
    info->chunked = 1;
    for (int d = 0; d < nd; d++) info->chunks[d] = (int64_t)cdims[d];
  }
  return 0;
}

int h5_info_of(const char *path, const char *dataset, h5_info *info, char *err) {
  if (available(path, err) != 0) return AFILE_ERR;
  ids h = IDS_NONE;
  begin();
  int rc = open_ds(&h, path, dataset, H5F_ACC_RDONLY, info, err);
  end(&h);
  return rc;
}

/* Selects the region in the dataset's space and makes the memory space;
 * then reads into or writes from 'data'. */
static int move(ids *h, int dtype, int ndim, const int64_t *start, const int64_t *count, void *data,
                int write) {
  hsize_t st[BUF_MAXDIM], ct[BUF_MAXDIM];
  for (int d = 0; d < ndim; d++) {
    if (count[d] == 0) return 0;
    st[d] = (hsize_t)start[d], ct[d] = (hsize_t)count[d];
  }
  if (ndim > 0 && lib.H5Sselect_hyperslab(h->space, H5S_SELECT_SET, st, NULL, ct, NULL) < 0) return -1;
  h->mspace = ndim > 0 ? lib.H5Screate_simple(ndim, ct, NULL) : lib.H5Screate(H5S_SCALAR);
  if (h->mspace < 0 || (h->mtype = type_of(dtype, 0)) < 0) return -1;
  herr_t e = write ? lib.H5Dwrite(h->ds, h->mtype, h->mspace, h->space, H5P_DEFAULT, data)
                   : lib.H5Dread(h->ds, h->mtype, h->mspace, h->space, H5P_DEFAULT, data);
  return e < 0 ? -1 : 0;
}

int h5_read(const char *path, const char *dataset, int ndim, const int64_t *start,
            const int64_t *count, buf **out, char *err) {
  ids h = IDS_NONE;
  h5_info info;
  buf *b = NULL;
  *out = NULL;
  if (available(path, err) != 0) return AFILE_ERR;
  begin();
  int rc = open_ds(&h, path, dataset, H5F_ACC_RDONLY, &info, err);
  if (rc == 0 && ndim != info.ndim)
    rc = afile_err(err, path, "a region of %d axes for dataset '%s' of %d", ndim, dataset, info.ndim);
  if (rc == 0 && (abox_check_region(ndim, info.shape, start, count, path, err) != 0 ||
                  abox_new(info.dtype, ndim, count, &b, path, err) != 0))
    rc = AFILE_ERR;
  if (rc == 0 && move(&h, info.dtype, ndim, start, count, buf_wdata(b), 0) != 0)
    rc = fail(err, path, "cannot read the dataset");
  end(&h);
  if (rc != 0 && b != NULL) buf_decref(b);
  else *out = b;
  return rc;
}

/* The bytes of file 'from' into the file 'to' (truncated first).
 * Returns 0, or -1 with 'err' set. */
static int copy_file(const char *from, const char *to, char *err) {
  int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_TRUNC | O_CLOEXEC);
  int rc = in < 0 || out < 0 ? -1 : 0;
  char *chunk = rc == 0 ? base_malloc(1 << 20) : NULL;
  if (rc == 0 && chunk == NULL) rc = -1;
  for (ssize_t n; rc == 0 && (n = read(in, chunk, 1 << 20)) != 0;) {
    if (n < 0 || write(out, chunk, (size_t)n) != n) rc = -1;
  }
  if (rc != 0) afile_errno(err, from, "cannot copy the file to add a dataset to it");
  base_free(chunk);
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc;
}

/* The file of a new dataset: a copy of the one at 'path' when there is
 * one (its other datasets kept, as Dask's to_hdf5 keeps them; a dataset
 * of the same name replaced), else a new file.  Under the HDF5 mutex. */
static hid_t open_for_dataset(const char *path, const char *tmp, const char *dataset, char *err) {
  struct stat st;
  if (stat(path, &st) != 0) return lib.H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (!S_ISREG(st.st_mode) || lib.H5Fis_hdf5(path) <= 0) {
    afile_err(err, path, "exists and is not an HDF5 file: not replaced");
    return -2;
  }
  if (copy_file(path, tmp, err) != 0) return -2;
  hid_t f = lib.H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
  /* H5Oexists_by_name fails (< 0) when a group on the way is missing:
   * then there is nothing to replace either */
  if (f >= 0 && lib.H5Oexists_by_name(f, dataset, H5P_DEFAULT) > 0 &&
      lib.H5Ldelete(f, dataset, H5P_DEFAULT) < 0) {
    lib.H5Fclose(f);
    return -1;
  }
  lib.H5Eclear2(H5E_DEFAULT);
  return f;
}

char *h5_create(const char *path, const char *dataset, int dtype, int ndim, const int64_t *shape,
                const int64_t *chunks, char *err) {
  int64_t n;
  if (abox_dtype_str(dtype) == NULL || ndim < 0 || ndim > BUF_MAXDIM || abox_count(ndim, shape, 1, &n) != 0) {
    afile_err(err, path, "no HDF5 dataset dusk can write for this dtype and shape");
    return NULL;
  }
  if (available(path, err) != 0) return NULL;
  char *tmp = afile_temp(path, 0, err);
  if (tmp == NULL) return NULL;
  ids h = IDS_NONE;
  hsize_t dims[BUF_MAXDIM], cdims[BUF_MAXDIM];
  int chunked = chunks != NULL && ndim > 0 && n > 0;
  for (int d = 0; d < ndim; d++) {
    dims[d] = (hsize_t)shape[d];
    if (chunked) cdims[d] = (hsize_t)(chunks[d] < 1 ? 1 : chunks[d] > shape[d] ? shape[d] : chunks[d]);
  }
  begin();
  int rc = 0;
  if ((h.file = open_for_dataset(path, tmp, dataset, err)) == -2)
    rc = AFILE_ERR, h.file = -1;
  else if (h.file < 0)
    rc = fail(err, tmp, "cannot create an HDF5 file");
  else if ((h.space = ndim > 0 ? lib.H5Screate_simple(ndim, dims, NULL) : lib.H5Screate(H5S_SCALAR)) < 0 ||
           (h.type = type_of(dtype, 1)) < 0 || (h.plist = lib.H5Pcreate(lib.dataset_create)) < 0 ||
           (chunked && lib.H5Pset_chunk(h.plist, ndim, cdims) < 0) ||
           (h.lcpl = lib.H5Pcreate(lib.link_create)) < 0 ||
           lib.H5Pset_create_intermediate_group(h.lcpl, 1) < 0 ||
           (h.ds = lib.H5Dcreate2(h.file, dataset, h.type, h.space, h.lcpl, h.plist, H5P_DEFAULT)) < 0) {
    char what[AFILE_ERRLEN];
    snprintf(what, sizeof what, "cannot create dataset '%s'", dataset);
    rc = fail(err, path, what);
  }
  end(&h);
  if (rc != 0) {
    char again[AFILE_ERRLEN];
    afile_abort(tmp, again);
    base_free(tmp);
    return NULL;
  }
  return tmp;
}

int h5_write(const char *tmp, const char *dataset, int ndim, const int64_t *start, const buf *b,
             char *err) {
  buf_array a;
  if (buf_array_of(b, &a) != 0) return afile_err(err, tmp, "not an array buffer");
  if (available(tmp, err) != 0) return AFILE_ERR;
  ids h = IDS_NONE;
  h5_info info;
  begin();
  int rc = open_ds(&h, tmp, dataset, H5F_ACC_RDWR, &info, err);
  if (rc == 0 && a.dtype != info.dtype)
    rc = afile_err(err, tmp, "dtype %s written to dataset '%s' of %s", buf_dtype_name(a.dtype), dataset,
                   buf_dtype_name(info.dtype));
  else if (rc == 0 && (a.ndim != info.ndim || ndim != info.ndim))
    rc = afile_err(err, tmp, "a %d-d region written to a %d-d dataset", a.ndim, info.ndim);
  else if (rc == 0 && abox_check_region(ndim, info.shape, start, a.shape, tmp, err) != 0)
    rc = AFILE_ERR;
  else if (rc == 0 && move(&h, a.dtype, ndim, start, a.shape, (void *)buf_data(b), 1) != 0)
    rc = fail(err, tmp, "cannot write the dataset");
  end(&h);
  return rc;
}

int h5_commit(const char *tmp, const char *path, char *err) {
  return afile_commit(tmp, path, 0, NULL, err);
}

int h5_abort(const char *tmp, char *err) {
  return afile_abort(tmp, err);
}
