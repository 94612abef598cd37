# A base image the classic way: an unpacked root file system tarball.
FROM scratch
ADD rootfs.tar.xz /
ADD --chmod=0644 os-release /etc/os-release
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="minimal-linux" \
      org.opencontainers.image.licenses="GPL-2.0-only"
CMD ["/bin/sh"]
