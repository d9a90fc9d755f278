"""Brevo -> Zoom: register the members of a Brevo list into a Zoom webinar or meeting.

``form`` turns a Brevo contact into Zoom's registration body (or names what is missing),
``writeback`` holds the attributes written back to the contact, ``target`` opens and
checks the webinar or meeting, ``run`` does the I/O.
"""
