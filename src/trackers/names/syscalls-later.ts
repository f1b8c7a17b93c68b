/**
 * x86-64 syscalls newer than this build's table (generated from the build host's headers), from
 * the kernel's arch/x86/entry/syscalls/syscall_64.tbl: 335–336 and 451 (cachestat, 6.5) to 470
 * (listns, in 6.19). Every name lookup (syscallName, profiles) falls back to it.
 */
export const LATER_SYSCALLS: readonly (readonly [number, string])[] = [
  [335, 'uretprobe'], [336, 'uprobe'],
  [451, 'cachestat'], [452, 'fchmodat2'], [453, 'map_shadow_stack'], [454, 'futex_wake'], [455, 'futex_wait'],
  [456, 'futex_requeue'], [457, 'statmount'], [458, 'listmount'], [459, 'lsm_get_self_attr'],
  [460, 'lsm_set_self_attr'], [461, 'lsm_list_modules'], [462, 'mseal'], [463, 'setxattrat'], [464, 'getxattrat'],
  [465, 'listxattrat'], [466, 'removexattrat'], [467, 'open_tree_attr'], [468, 'file_getattr'],
  [469, 'file_setattr'], [470, 'listns'],
];
