FROM fedora:40 AS base

RUN --mount=type=cache,target=/var/cache/libdnf5,sharing=locked \
    --mount=type=cache,target=/var/cache/dnf,sharing=locked \
    dnf -y install --setopt=install_weak_deps=False --setopt=keepcache=True \
        gcc-c++ \
        make \
        meson \
        ninja-build \
        glib2-devel \
        systemd-devel \
    && dnf -y clean all

FROM base AS build
WORKDIR /src
COPY . .
RUN meson setup builddir --buildtype=release --prefix=/usr \
 && meson compile -C builddir \
 && DESTDIR=/staging meson install -C builddir

FROM fedora:40
RUN dnf -y install glib2 systemd-libs && dnf clean all && rm -rf /var/cache/dnf
COPY --from=build /staging/usr/ /usr/
ENTRYPOINT ["/usr/bin/sensord"]
