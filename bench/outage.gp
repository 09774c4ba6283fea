# bench/outage.png from bench/sim_outage.py's outage.dat (hours from the end of the
# outage; requests per minute per 100,000 instances: phases new, phases old, restart
# new, restart old).
#   gnuplot -e "data='outage.dat'; out='outage.png'" outage.gp   (bench/sim_outage.py runs it)
set terminal pngcairo size 1100,380 font "Sans,9"
set output out
set multiplot layout 1,2 title "anontel: requests per minute across a 6-hour endpoint outage (100,000 instances, interval 12 h, HEALTHCHECK every 30 s)"
set grid
set key top right samplen 2
set xlabel "hours from the end of the outage"
set xrange [-7:15]
set ylabel "requests per minute"
set object 1 rect from -6, graph 0 to 0, graph 1 back fc rgb "#eeeeee" fs solid noborder
set title "fleet at random phases"
set yrange [0:*]
plot data using 1:3 with lines lw 1 lc rgb "#d95f02" title "old: 30 s doubling, no jitter", \
     ''   using 1:2 with lines lw 1 lc rgb "#1b9e77" title "new: full jitter"
set title "fleet restarted together 1 h into the outage (log scale)"
set logscale y
set yrange [10:*]
plot data using 1:4 with lines lw 1 lc rgb "#1b9e77" title "new: full jitter", \
     ''   using 1:5 with impulses lw 1 lc rgb "#d95f02" title "old: 30 s doubling, no jitter (waves)"
unset multiplot
