# Copyright (c) mmavs contributors. All rights reserved.
