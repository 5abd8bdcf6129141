this file is outside rootDir and never read (
