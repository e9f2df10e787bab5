/* crc32c.h — CRC-32C (Castagnoli), the checksum of WAL records and peer frames. */
#ifndef RAFTKV_CRC32C_H
#define RAFTKV_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Extends crc (start with 0) over len bytes of data. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* The same by table (slicing-by-8), whatever the CPU: crc32c uses the SSE 4.2
 * instruction where there is one; the unit test checks both agree. */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
