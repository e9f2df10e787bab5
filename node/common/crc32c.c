/* crc32c.c — table-driven CRC-32C. The table is computed once, lazily; the
 * computation is idempotent, so a benign race between threads is harmless
 * but we still guard it with pthread_once to keep TSan-style tools quiet. */
#include "crc32c.h"

#include <pthread.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_HW 1
#include <string.h>
/* SSE 4.2 has CRC-32C (the Castagnoli polynomial) as an instruction, one per
 * 8 bytes: ~10x fewer instructions than slicing-by-8 for the WAL records and
 * peer frames that every write checksums several times over the cluster. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = ~crc;
	/* Four words a turn: the loop's own bookkeeping was half the
	 * instructions of the one-word loop (callgrind, issue 16). */
	while (len >= 32) {
		uint64_t w[4];
		memcpy(w, p, sizeof w);
		c = __builtin_ia32_crc32di(c, w[0]);
		c = __builtin_ia32_crc32di(c, w[1]);
		c = __builtin_ia32_crc32di(c, w[2]);
		c = __builtin_ia32_crc32di(c, w[3]);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		c32 = __builtin_ia32_crc32si(c32, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		c32 = __builtin_ia32_crc32hi(c32, w);
		p += 2;
		len -= 2;
	}
	if (len)
		c32 = __builtin_ia32_crc32qi(c32, *p);
	return ~c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
#ifdef CRC32C_HW
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(crc, data, len);
#endif
	return crc32c_sw(crc, data, len);
}

uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&table_once, crc32c_init_table);
	const unsigned char *p = data;
	crc = ~crc;
	/* slicing-by-8: WAL records are written at tens of MB/s, so it matters */
	while (len >= 8) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		crc = table[7][crc & 0xff] ^ table[6][(crc >> 8) & 0xff] ^
		      table[5][(crc >> 16) & 0xff] ^ table[4][crc >> 24] ^
		      table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
