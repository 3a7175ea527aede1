/// The process's RLIMIT_NOFILE, which bounds how many connections can be open at once (FileDescriptorLimit+Glibc.swift).
enum FileDescriptorLimit {}
