# anontel in a FROM scratch image: the static binary alone.
#
#   docker build -t anontel .
#   docker run --rm anontel show
#
# To ship it beside your own service, copy /anontel from this image into yours
# (COPY --from=anontel /anontel /anontel) and use the HEALTHCHECK line below.
# `--build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)` makes the binary reproducible
# (the same bytes from the same sources and Debian packages).

# Layers from the least to the most often changed, so a change to anontel's sources
# repeats only the last step: the toolchain (apt-get) and the fetched sources (BearSSL,
# jsmn) in the stage `deps`, the only step that needs the network (`--target deps` builds
# it alone), then BearSSL compiled (for the image, and for the host's roots generator),
# then anontel. .dockerignore keeps build/ and third_party/ of the build context out.
FROM debian:12 AS deps
WORKDIR /src
COPY build.sh ./
COPY tools/apt.sh tools/
RUN ./build.sh deps

FROM deps AS build
COPY Makefile VERSION ./
RUN make -s -j"$(nproc)" build/musl/libbearssl.a build/host/libbearssl.a
COPY . .
ARG SOURCE_DATE_EPOCH
RUN ./build.sh

FROM scratch
COPY --from=build /src/build/anontel /anontel
# Health probe of the service, which also reports telemetry when due (exec form:
# a scratch image has no shell). Exit 1 when unhealthy, never 2.
HEALTHCHECK --interval=30s --timeout=10s CMD ["/anontel","check","http://127.0.0.1:8080/health","--report"]
ENTRYPOINT ["/anontel"]
CMD ["show"]
