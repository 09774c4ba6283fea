# anontel in a FROM scratch image: the static binary alone.
#
#   docker build -t anontel .
#   docker run --rm anontel show
#
# To ship it beside your own service, copy /anontel from this image into yours
# (COPY --from=anontel /anontel /anontel) and use the HEALTHCHECK line below.

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN ./build.sh

FROM scratch
COPY --from=build /src/build/anontel /anontel
# Health probe of the service, which also reports telemetry when due (exec form:
# a scratch image has no shell). Exit 1 when unhealthy, never 2.
HEALTHCHECK --interval=30s --timeout=10s CMD ["/anontel","check","http://127.0.0.1:8080/health","--report"]
ENTRYPOINT ["/anontel"]
CMD ["show"]
