/* startup.S: vector table and reset handler for a bare-metal Cortex-M4 (here QEMU's mps2-an386).
 *
 * Reset: enable the FPU (CP10/CP11 in CPACR) before any floating-point instruction can run, copy .data
 * from flash to RAM, zero .bss, call main, and end the program with main's status (semihosting).
 * Written in assembly so that no compiler-generated code (which may use the FPU) runs before CPACR is set.
 */
    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb

    .section .vectors, "a", %progbits
    .align 2
    .global __vectors
__vectors:
    .word __stack_top           /* initial SP */
    .word Reset_Handler
    .word Fault_Handler         /* NMI */
    .word Fault_Handler         /* HardFault */
    .word Fault_Handler         /* MemManage */
    .word Fault_Handler         /* BusFault */
    .word Fault_Handler         /* UsageFault */
    .word 0, 0, 0, 0            /* reserved */
    .word Fault_Handler         /* SVCall */
    .word Fault_Handler         /* DebugMonitor */
    .word 0                     /* reserved */
    .word Fault_Handler         /* PendSV */
    .word Fault_Handler         /* SysTick */

    .section .text.Reset_Handler, "ax", %progbits
    .global Reset_Handler
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    ldr     r0, =0xE000ED88     /* CPACR */
    ldr     r1, [r0]
    orr     r1, r1, #(0xF << 20) /* CP10 and CP11: full access */
    str     r1, [r0]
    dsb
    isb                         /* the FPU is usable from the next instruction on */

    ldr     r0, =__data_start   /* .data: initial values from flash (both ends 4-byte aligned) */
    ldr     r1, =__data_end
    ldr     r2, =__data_load
1:  cmp     r0, r1
    itt     lo
    ldrlo   r3, [r2], #4
    strlo   r3, [r0], #4
    blo     1b

    ldr     r0, =__bss_start    /* .bss: zero (both ends 4-byte aligned) */
    ldr     r1, =__bss_end
    movs    r2, #0
2:  cmp     r0, r1
    itt     lo
    strlo   r2, [r0], #4
    blo     2b

    bl      main
    bl      semihosting_exit    /* r0: main's status */
    b       .
    .size Reset_Handler, . - Reset_Handler
    .pool
