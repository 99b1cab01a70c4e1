#!/bin/sh
# GET / (busybox httpd runs this when /www has no index.html): the pod's hostname, one line.
printf 'Content-Type: text/plain\r\n\r\n'
hostname
