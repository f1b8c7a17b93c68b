/* Fixture for test/unit/btf*.test.ts and bench/decode.ts.
 * Self-contained on purpose: <linux/types.h> needs <asm/types.h>, absent for -target bpf,
 * and the tests must only need clang-16. Compile with: clang-16 -O2 -g -target bpf -fms-extensions -c
 * The initialisers below are the ground truth the tests compare decoded bytes against. */

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __s8 s8;
typedef __u16 u16;
typedef __s16 s16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0

/* Same shapes as libbpf's bpf_helpers.h macros, so .maps BTF looks like real programs'. */
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

enum bpf_map_type { BPF_MAP_TYPE_HASH = 1, BPF_MAP_TYPE_ARRAY = 2, BPF_MAP_TYPE_RINGBUF = 27 };

/* Typedef chain and qualifiers. */
typedef u32 inner_id_t;
typedef inner_id_t chain_id_t;

enum color { COLOR_RED = 0, COLOR_GREEN = 1, COLOR_BLUE = 2 };
enum level { LEVEL_NEG = -2, LEVEL_MINUS_ONE = -1, LEVEL_ZERO = 0, LEVEL_UP = 3 };
enum wide { WIDE_SMALL = 1, WIDE_HUGE = 0xfedcba9876543210ULL };
enum __attribute__((packed)) tiny { TINY_A = 1, TINY_B = 200 };

/* Embedded anonymously by events, the way our trackers share a header. */
struct common {
	u64 ts_ns;
	u32 pid;
	u32 tid;
};

struct inner {
	u16 a;
	s16 b;
};

struct bits {
	unsigned int a : 3;   /* bits 0..2 */
	unsigned int b : 7;   /* 3..9, crosses a byte boundary */
	unsigned int c : 12;  /* 10..21 */
	int d : 5;            /* signed, 22..26 */
	unsigned int e : 5;   /* 27..31 */
	u64 f : 40;           /* next u64 unit */
	u64 g : 24;
	u64 h : 60;           /* > 53 bits: bigint when large */
	s64 i : 4;
	enum color col : 4;
	bool flag : 1;
};

union num {
	u32 i;
	float f;
};

struct all_types {
	struct common;                  /* anonymous tagged member (-fms-extensions): flattened */
	u8 u8v;
	s8 s8v;
	u16 u16v;
	s16 s16v;
	u32 u32v;
	s32 s32v;
	u64 u64v;
	s64 s64v;
	u64 u64big;
	s64 s64neg;
	s64 s64min;
	u64 u64max;
	__int128 s128v;
	unsigned __int128 u128v;
	bool flag_t;
	bool flag_f;
	char plain_char;
	char comm[16];
	char full[4];                   /* no NUL terminator */
	char empty[8];
	char utf8[8];
	const char cname[6];            /* qualifiers do not hide char-ness */
	unsigned char uchars[4];
	signed char schars[4];
	u8 bytes[4];                    /* typedef'd u8: a byte array, not a string */
	__u8 bytes2[3];
	s32 grid[2][3];
	char names[2][4];
	u16 many[40];                   /* long enough to be decoded with a loop */
	struct inner in;
	struct inner pair[2];
	union {                         /* untagged anonymous union: flattened */
		u32 word;
		u8 octets[4];
	};
	struct {                        /* untagged anonymous struct: flattened */
		u16 anon_x;
		u16 anon_y;
	};
	union num un;
	enum color color;
	enum color unknown_color;
	enum level lvl;
	enum level lvl2;
	enum wide w;
	enum wide w2;
	enum tiny tn;
	struct bits bits;
	void *ptr;
	const struct common *cptr;
	float fl;
	double db;
	chain_id_t chained;
	const volatile u32 cv;
	volatile s16 vol;
	u32 zero_len[0];                /* zero-length: skipped */
	u32 after_zero;
};

struct all_types sample = {
	.ts_ns = 123456789012345ULL,
	.pid = 4242,
	.tid = 4243,
	.u8v = 200,
	.s8v = -5,
	.u16v = 65000,
	.s16v = -30000,
	.u32v = 4000000000U,
	.s32v = -2000000000,
	.u64v = 9007199254740991ULL,            /* 2^53 - 1: still a number */
	.s64v = -9007199254740991LL,
	.u64big = 18446744073709551000ULL,      /* > 2^53: bigint */
	.s64neg = -9007199254740993LL,          /* < -(2^53 - 1): bigint */
	.s64min = (-9223372036854775807LL - 1),
	.u64max = 18446744073709551615ULL,
	.s128v = -((__int128)1 << 100),
	.u128v = ((unsigned __int128)0x0123456789abcdefULL << 64) | 0xfedcba9876543210ULL,
	.flag_t = true,
	.flag_f = false,
	.plain_char = 'A',
	.comm = "hello",
	.full = { 'a', 'b', 'c', 'd' },
	.empty = "",
	.utf8 = "h\xc3\xa9!",                    /* "hé!" */
	.cname = "const",
	.uchars = "xyz",
	.schars = "ab",
	.bytes = { 1, 2, 0, 255 },
	.bytes2 = { 0, 0, 7 },
	.grid = { { 1, -2, 3 }, { -4, 5, -6 } },
	.names = { "ab", "cde" },
	.many = { [0] = 1, [1] = 2, [39] = 65535 },
	.in = { .a = 7, .b = -7 },
	.pair = { { .a = 1, .b = -1 }, { .a = 2, .b = -2 } },
	.word = 0x04030201,
	.anon_x = 11,
	.anon_y = 12,
	.un = { .i = 0x3f800000 },              /* also reads as f = 1.0 */
	.color = COLOR_GREEN,
	.unknown_color = (enum color)7,
	.lvl = LEVEL_NEG,
	.lvl2 = (enum level)-7,
	.w = WIDE_HUGE,
	.w2 = WIDE_SMALL,
	.tn = TINY_B,
	.bits = {
		.a = 5, .b = 100, .c = 4000, .d = -9, .e = 31,
		.f = 1099511627775ULL, .g = 0xabcdef,
		.h = 0xfedcba987654321ULL, .i = -3, .col = COLOR_BLUE, .flag = true,
	},
	.ptr = (void *)0x12345678,
	.cptr = (const struct common *)0xffff888012345678ULL,
	.fl = 1.5f,
	.db = -2.25,
	.chained = 77,
	.cv = 88,
	.vol = -99,
	.after_zero = 0xdeadbeef,
};

/* A second .data variable, so datasec offsets are not all zero. */
struct inner second = { .a = 1000, .b = -1000 };

/* A tracing event: 64 bytes, anonymous common header. Decoded by bench/decode.ts. */
struct event {
	struct common;
	u32 ppid;
	u32 uid;
	u64 cgroup_id;
	u64 duration_ns;
	s32 exit_code;
	u32 flags;
	char comm[16];
};

struct event sample_event = {
	.ts_ns = 1700000000000000000ULL,
	.pid = 1234,
	.tid = 1235,
	.ppid = 1,
	.uid = 1000,
	.cgroup_id = 4242,
	.duration_ns = 1500000,
	.exit_code = -1,
	.flags = 3,
	.comm = "bash",
};

/* Member tags: a NUL-separated list (argv) and a field the runtime reads itself. */
struct tagged {
	u64 ts_ns __attribute__((btf_decl_tag("eunomia.hidden")));
	u32 n;
	char args[32] __attribute__((btf_decl_tag("eunomia.strings")));
	char empty[8] __attribute__((btf_decl_tag("eunomia.strings")));
	char name[8];
};

struct tagged tagged_sample = {
	.ts_ns = 99,
	.n = 3,
	.args = "/bin/sh\0-c\0\0echo hi",
	.name = "x",
};

/* A record that may end early ("eunomia.tail": an exit record is the head of the exec struct),
 * and char arrays whose data a sibling counts ("eunomia.length:FIELD"): the bytes after it are
 * not zeroed by the program. */
enum tail_kind { TAIL_ZERO = 0, TAIL_ONE = 1 };
struct tail_rec {
	u32 kind;
	u32 argv_len;
	char argv[16] __attribute__((btf_decl_tag("eunomia.strings"), btf_decl_tag("eunomia.length:argv_len")));
	u8 label_len;
	char label[8] __attribute__((btf_decl_tag("eunomia.length:label_len")));
	u64 big __attribute__((btf_decl_tag("eunomia.tail")));
	enum tail_kind k;
	bool yes;
	char name[8];
	char list[8] __attribute__((btf_decl_tag("eunomia.strings")));
	u32 pair[2];
	struct inner in;
	u32 late_len;
	char late[4] __attribute__((btf_decl_tag("eunomia.length:late_len")));
};

struct tail_rec tail_sample = {
	.kind = 7,
	.argv_len = 5,
	.argv = "true\0left\0over",
	.label_len = 2,
	.label = "abcdefg",
	.big = 1,
	.k = TAIL_ONE,
	.yes = 1,
	.name = "n",
	.list = "a\0b",
	.pair = { 1, 2 },
	.in = { .a = 3, .b = -3 },
	.late_len = 9,
	.late = "xyz",
};

/* Tags used wrongly: a record cannot end before its first member; a length must name an integer. */
struct tail_first {
	u32 a __attribute__((btf_decl_tag("eunomia.tail")));
	u32 b;
};
struct tail_first tail_first_sample = { .b = 1 };
struct bad_length {
	u32 n;
	char s[4] __attribute__((btf_decl_tag("eunomia.length:missing")));
};
struct bad_length bad_length_sample = { .n = 1 };

/* Flexible array member: size excludes it; decoders must skip it. */
struct with_flex {
	u32 len;
	char data[];
};

struct with_flex flex_sample = { .len = 3 };

/* Options the way trackers declare them: const volatile globals in .rodata. */
const volatile u32 target_pid = 0;
const volatile u64 min_duration_ns = 0;
const volatile s32 offset_s32 = -1;
const volatile s8 small_s8 = 0;
const volatile bool verbose = false;
const volatile char prefix[8] = "";
const volatile u8 mac[6] = { 0 };
const volatile enum color want_color = COLOR_RED;
const volatile enum level want_level = LEVEL_ZERO;
const volatile struct inner limits = { .a = 1, .b = 2 };
const volatile s32 ids[3] = { 0 };
const volatile u64 big_ids[2] = { 0 };
const volatile struct bits rbits = { 0 };
const volatile struct event tmpl = { 0 };
const volatile double ratio = 0.5;

/* .bss */
u64 counter;

struct foo {
	u32 a;
	u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct foo);
	__uint(max_entries, 1234);
} foo_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 16);
	__uint(map_flags, 1024);
} sized_map SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	return target_pid + min_duration_ns + verbose + sample.pid + counter;
}

char LICENSE[] SEC("license") = "GPL";
