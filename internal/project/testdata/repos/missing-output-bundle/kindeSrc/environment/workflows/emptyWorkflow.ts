// Nothing here yet: the bundle of this file is empty.
