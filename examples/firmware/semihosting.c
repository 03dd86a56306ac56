/* semihosting.c: Arm semihosting (Arm's "Semihosting for AArch32 and AArch64"): the operation number in r0,
 * its argument in r1, then `bkpt 0xab` on M-profile. Nothing from a C library is needed. */
#include "semihosting.h"

#include <stdint.h>

enum {
    SYS_WRITE0 = 0x04,
    SYS_EXIT = 0x18,
    ADP_STOPPED_APPLICATION_EXIT = 0x20026,
    ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN = 0x20023,
};

static uintptr_t semihosting_call(uintptr_t operation, uintptr_t argument) {
    register uintptr_t r0 __asm__("r0") = operation;
    register uintptr_t r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihosting_write0(const char *text) {
    semihosting_call(SYS_WRITE0, (uintptr_t)text);
}

void semihosting_exit(int status) {
    /* On AArch32 SYS_EXIT takes the reason code itself; only "application exit" means success. */
    semihosting_call(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR_UNKNOWN);
    for (;;) {
    }
}

/* Every exception the vector table names ends here: report it and stop, rather than hang. */
void Fault_Handler(void) {
    static const char hex[] = "0123456789abcdef";
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    char message[] = "fault: exception 0x00\n";
    message[19] = hex[(ipsr >> 4) & 0xF];
    message[20] = hex[ipsr & 0xF];
    semihosting_write0(message);
    semihosting_exit(1);
}
