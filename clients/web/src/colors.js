// Colours shared by the 3D view and the UI (pins and the issue list, compare, markup). A neutral
// module: ui/ and viewer/ both read it, neither imports the other for it.

/** Annotation status -> colour (pins in the scene, numbers in the issue list). */
export const STATUS_COLORS = { open: '#3d8bfd', in_progress: '#e0a21a', resolved: '#2fbf71', closed: '#7d8b99' };

/** The colour of a status nobody knows (a newer server's status). */
export const DEFAULT_STATUS_COLOR = '#3d8bfd';

/** Compare versions in 3D: added, changed, removed (drawn as a ghosted box of the old element). */
export const COMPARE_COLORS = { added: '#2fbf71', changed: '#f08c00', removed: '#e03131' };
