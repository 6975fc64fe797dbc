/* The enter program (enter/main.c), built by build.ts before this library, inside it:
 * join.c copies it into a sealed memfd for each `mycfs exec`. The path is relative to the
 * directory the build runs in. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global mycfs_enter_image\n.hidden mycfs_enter_image\n"
        "mycfs_enter_image:\n"
        ".incbin \"build/mycfs-enter\"\n"
        ".global mycfs_enter_image_end\n.hidden mycfs_enter_image_end\n"
        "mycfs_enter_image_end:\n"
        ".previous\n");
