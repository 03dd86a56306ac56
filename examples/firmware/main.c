/* main.c: runs a t2m-compiled model once and prints its outputs exactly, by semihosting.
 *
 * The Makefile names the model: T2M_MODEL (the C prefix, e.g. tinycnn), T2M_MODEL_UPPER (TINYCNN) and
 * T2M_HEADER ("tinycnn.h"). In a firmware of your own, include the header and call tinycnn_run directly.
 * Options:
 *   T2M_WITH_ARENA   call <name>_run_with_arena with an arena this file places, instead of <name>_run
 *                    (the object's static arena is then left out of the firmware by --gc-sections);
 *   T2M_INPUT_HEADER a header defining `static const float model_input[<NAME>_INPUT_SIZE]` (input_header.py
 *                    writes one from a .npy file); without it the input is a fixed pattern in [-1, 1].
 * Output: one line `<entry> returned <status>`, then the outputs as the hex of their float32 bits, 8 a line,
 * so a comparison with another run (t2m-run, the host) can be bit-exact.
 */
#include <stdint.h>
#include <string.h>

#include T2M_HEADER
#include "semihosting.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

/* The header's single-input, single-output names (a model with several has INPUT0_SIZE, ...). */
#define INPUT_SIZE CAT(T2M_MODEL_UPPER, _INPUT_SIZE)
#define OUTPUT_SIZE CAT(T2M_MODEL_UPPER, _OUTPUT_SIZE)
#define ARENA_SIZE CAT(T2M_MODEL_UPPER, _ARENA_SIZE)

static float input[INPUT_SIZE];
static float output[OUTPUT_SIZE];

#ifdef T2M_INPUT_HEADER
#include T2M_INPUT_HEADER
_Static_assert(sizeof model_input == sizeof input, "model_input, in the input header, must hold <NAME>_INPUT_SIZE floats");
#endif

#ifdef T2M_WITH_ARENA
#define ENTRY CAT(T2M_MODEL, _run_with_arena)
/* The activations: wherever your RAM plan puts them (here .bss), 8-byte aligned. */
static uint8_t arena[ARENA_SIZE] __attribute__((aligned(8)));
#define RUN() ENTRY(input, output, arena)
#else
#define ENTRY CAT(T2M_MODEL, _run)
#define RUN() ENTRY(input, output)
#endif

static void fill_input(void) {
#ifdef T2M_INPUT_HEADER
    memcpy(input, model_input, sizeof input);
#else
    /* Exact in float32, so any other program can rebuild the same input. */
    for (uint32_t i = 0; i < INPUT_SIZE; i++) {
        input[i] = (float)((int32_t)((i * 7919u) % 2001u) - 1000) / 1000.0f;
    }
#endif
}

static char *put_text(char *out, const char *text) {
    while (*text) {
        *out++ = *text++;
    }
    return out;
}

static char *put_decimal(char *out, int32_t value) {
    char digits[12];
    int n = 0;
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) {
        *out++ = '-';
    }
    while (n) {
        *out++ = digits[--n];
    }
    return out;
}

static char *put_hex32(char *out, uint32_t value) {
    static const char hex[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        *out++ = hex[(value >> shift) & 0xF];
    }
    return out;
}

static void print_outputs(int status) {
    char line[96];
    char *end = put_text(line, STR(ENTRY) " returned ");
    end = put_decimal(end, status);
    end = put_text(end, "\n");
    *end = 0;
    semihosting_write0(line);
    for (uint32_t i = 0; i < OUTPUT_SIZE; i += 8) {
        end = line;
        for (uint32_t j = i; j < i + 8 && j < OUTPUT_SIZE; j++) {
            uint32_t bits;
            memcpy(&bits, &output[j], sizeof bits);
            end = put_hex32(end, bits);
            *end++ = j + 1 < i + 8 && j + 1 < OUTPUT_SIZE ? ' ' : '\n';
        }
        *end = 0;
        semihosting_write0(line);
    }
}

int main(void) {
    fill_input();
    int status = RUN();
    print_outputs(status);
    return status;
}
