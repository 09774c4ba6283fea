/* The floor of bench/run.sh: an empty static program (musl), the cost of exec alone. */
int
main(void)
{
	return 0;
}
