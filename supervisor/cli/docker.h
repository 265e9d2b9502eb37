/* The Docker CLI front's entry: `mocker ...`. */
#ifndef MK_DOCKER_H
#define MK_DOCKER_H

int mk_docker_main(int argc, char **argv);

#endif
