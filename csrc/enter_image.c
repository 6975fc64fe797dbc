/* The enter program (enter/main.c), built by build.ts before this library, inside it:
 * join.c copies it into a sealed memfd for each `mycfs exec`. The assembler finds it in
 * the target's build directory (build.ts passes it with -Wa,-I), so that each release
 * target's library holds the program of its own architecture. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global mycfs_enter_image\n.hidden mycfs_enter_image\n"
        "mycfs_enter_image:\n"
        ".incbin \"mycfs-enter\"\n"
        ".global mycfs_enter_image_end\n.hidden mycfs_enter_image_end\n"
        "mycfs_enter_image_end:\n"
        ".previous\n");
