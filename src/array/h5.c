/*
 * h5: HDF5 datasets (see h5.h).
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

#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "array/abox.h"
#include "array/afile.h"
#include "base/alloc.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  hid_t file, ds, space, mspace, type, mtype, plist, lcpl;
} ids;

#define IDS_NONE {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, \
                  H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID}

static void begin(void) {
  pthread_mutex_lock(&lock);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void end(ids *h) {
  if (h->ds >= 0) H5Dclose(h->ds);
  if (h->space >= 0) H5Sclose(h->space);
  if (h->mspace >= 0) H5Sclose(h->mspace);
  if (h->type >= 0) H5Tclose(h->type);
  if (h->mtype >= 0) H5Tclose(h->mtype);
  if (h->plist >= 0) H5Pclose(h->plist);
  if (h->lcpl >= 0) H5Pclose(h->lcpl);
  if (h->file >= 0) H5Fclose(h->file);
  H5Eclear2(H5E_DEFAULT);
  pthread_mutex_unlock(&lock);
}

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *ud) {
  if (n == 0 && e->desc != NULL) snprintf(ud, 200, "%s", e->desc);
  return 0;
}

/* "PATH: 'what' (the library's reason)". */
static int fail(char *err, const char *path, const char *what) {
  char why[200] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why);
  return afile_err(err, path, "%s%s%s%s", what, *why ? " (" : "", why, *why ? ")" : "");
}

/* h5py's booleans: an enum of int8 FALSE = 0, TRUE = 1. */
static hid_t bool_type(void) {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  int8_t no = 0, yes = 1;
  if (t >= 0 && (H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0)) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* The memory type of 'dtype' to give H5Dread and H5Dwrite (a new one for
 * bool: close it), or for 'file' the little-endian type to store. */
static hid_t type_of(int dtype, int file) {
  switch (dtype) {
  case BUF_BOOL: return bool_type();
  case BUF_INT8: return H5Tcopy(file ? H5T_STD_I8LE : H5T_NATIVE_INT8);
  case BUF_INT16: return H5Tcopy(file ? H5T_STD_I16LE : H5T_NATIVE_INT16);
  case BUF_INT32: return H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
  case BUF_INT64: return H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
  case BUF_UINT8: return H5Tcopy(file ? H5T_STD_U8LE : H5T_NATIVE_UINT8);
  case BUF_UINT16: return H5Tcopy(file ? H5T_STD_U16LE : H5T_NATIVE_UINT16);
  case BUF_UINT32: return H5Tcopy(file ? H5T_STD_U32LE : H5T_NATIVE_UINT32);
  case BUF_UINT64: return H5Tcopy(file ? H5T_STD_U64LE : H5T_NATIVE_UINT64);
  case BUF_FLOAT32: return H5Tcopy(file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT);
  case BUF_FLOAT64: return H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
  }
  return H5I_INVALID_HID;
}

/* The dtype of the HDF5 type 't', or -1. */
static int dtype_of(hid_t t) {
  size_t size = H5Tget_size(t);
  switch (H5Tget_class(t)) {
  case H5T_INTEGER: {
    int s = H5Tget_sign(t) == H5T_SGN_2;
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
    if (size != 1 || H5Tget_nmembers(t) != 2 || H5Tenum_valueof(t, "FALSE", &no) < 0 ||
        H5Tenum_valueof(t, "TRUE", &yes) < 0 || no != 0 || yes != 1)
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
  if ((h->file = H5Fopen(path, flags, H5P_DEFAULT)) < 0) return fail(err, path, "cannot open as an HDF5 file");
  if ((h->ds = H5Dopen2(h->file, dataset, H5P_DEFAULT)) < 0) {
    snprintf(what, sizeof what, "no dataset '%s'", dataset);
    return fail(err, path, what);
  }
  if ((h->type = H5Dget_type(h->ds)) < 0 || (h->space = H5Dget_space(h->ds)) < 0 ||
      (h->plist = H5Dget_create_plist(h->ds)) < 0)
    return fail(err, path, "cannot read the dataset's header");
  if ((info->dtype = dtype_of(h->type)) < 0)
    return afile_err(err, path, "dataset '%s' has a type dusk has no dtype for", dataset);
  H5S_class_t sc = H5Sget_simple_extent_type(h->space);
  int nd = H5Sget_simple_extent_ndims(h->space);
  if ((sc != H5S_SIMPLE && sc != H5S_SCALAR) || nd < 0 || nd > BUF_MAXDIM)
    return afile_err(err, path, "dataset '%s' has no array shape", dataset);
  hsize_t dims[BUF_MAXDIM], cdims[BUF_MAXDIM];
  H5Sget_simple_extent_dims(h->space, dims, NULL);
  info->ndim = nd;
  for (int d = 0; d < nd; d++) info->shape[d] = (int64_t)dims[d];
  if (H5Pget_layout(h->plist) == H5D_CHUNKED && H5Pget_chunk(h->plist, nd, cdims) == nd) {
    info->chunked = 1;
    for (int d = 0; d < nd; d++) info->chunks[d] = (int64_t)cdims[d];
  }
  return 0;
}

int h5_info_of(const char *path, const char *dataset, h5_info *info, char *err) {
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
  if (ndim > 0 && H5Sselect_hyperslab(h->space, H5S_SELECT_SET, st, NULL, ct, NULL) < 0) return -1;
  h->mspace = ndim > 0 ? H5Screate_simple(ndim, ct, NULL) : H5Screate(H5S_SCALAR);
  if (h->mspace < 0 || (h->mtype = type_of(dtype, 0)) < 0) return -1;
  herr_t e = write ? H5Dwrite(h->ds, h->mtype, h->mspace, h->space, H5P_DEFAULT, data)
                   : H5Dread(h->ds, h->mtype, h->mspace, h->space, H5P_DEFAULT, data);
  return e < 0 ? -1 : 0;
}

int h5_read(const char *path, const char *dataset, int ndim, const int64_t *start,
            const int64_t *count, buf **out, char *err) {
  ids h = IDS_NONE;
  h5_info info;
  buf *b = NULL;
  *out = NULL;
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

char *h5_create(const char *path, const char *dataset, int dtype, int ndim, const int64_t *shape,
                const int64_t *chunks, char *err) {
  int64_t n;
  if (abox_dtype_str(dtype) == NULL || ndim < 0 || ndim > BUF_MAXDIM || abox_count(ndim, shape, 1, &n) != 0) {
    afile_err(err, path, "no HDF5 dataset dusk can write for this dtype and shape");
    return NULL;
  }
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
  if ((h.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
    rc = fail(err, tmp, "cannot create an HDF5 file");
  else if ((h.space = ndim > 0 ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR)) < 0 ||
           (h.type = type_of(dtype, 1)) < 0 || (h.plist = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
           (chunked && H5Pset_chunk(h.plist, ndim, cdims) < 0) || (h.lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 ||
           H5Pset_create_intermediate_group(h.lcpl, 1) < 0 ||
           (h.ds = H5Dcreate2(h.file, dataset, h.type, h.space, h.lcpl, h.plist, H5P_DEFAULT)) < 0) {
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
