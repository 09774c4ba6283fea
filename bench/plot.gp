# bench/growth.png from bench.py's growth.dat (indexed blocks flags, flat, kept, roots:
# x median_ms fit_ms).
#   gnuplot -e "data='growth.dat'; out='growth.png'" plot.gp
set terminal pngcairo size 960,300 font "Sans,9"
set output out
set multiplot layout 1,3 title "anontel: how cost grows (medians, ms; line = least-squares fit)"
set grid
set key top left reverse Left samplen 2
set ylabel "ms"
set yrange [0:*]
set xlabel "feature flags"
set xtics 250
set title "show"
plot data index 0 using 1:2 with points pt 7 ps 1.2 title "objects of 10", \
     ''   index 0 using 1:3 with lines lw 2 notitle, \
     ''   index 1 using 1:2 with points pt 5 ps 1.2 title "one flat object", \
     ''   index 1 using 1:3 with lines lw 2 dt 2 notitle
set xtics autofreq
set xlabel "kept messages"
set title "report --force"
plot data index 2 using 1:2 with points pt 7 ps 1.2 title "median", \
     ''   index 2 using 1:3 with lines lw 2 title "fit"
set key bottom right
set xlabel "roots in caFile"
set title "report --force (ECDSA server)"
plot data index 3 using 1:2 with points pt 7 ps 1.2 title "median", \
     ''   index 3 using 1:3 with lines lw 2 title "fit"
unset multiplot
