/* crc32c.h — CRC-32C (Castagnoli), the checksum of WAL records and peer frames. */
#ifndef RAFTKV_CRC32C_H
#define RAFTKV_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Extends crc (start with 0) over len bytes of data. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
