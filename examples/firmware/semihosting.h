/* semihosting.h: the two Arm semihosting calls the example needs (a debugger or QEMU services them). */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

/* Writes a NUL-terminated string to the host's console (SYS_WRITE0). */
void semihosting_write0(const char *text);

/* Ends the program (SYS_EXIT): QEMU exits with status 0 when `status` is 0, else with 1. */
void semihosting_exit(int status) __attribute__((noreturn));

#endif
